"""The event stream: one JSON object a line on the agent's real stdout (see ARCHITECTURE.md).

Console text (everything the job prints, from Python or C, on fd 1 or 2) is captured
through a pipe and sent as ``log`` events, ANSI codes and ``\\r`` kept as they were.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import threading
import time
from typing import Any

from remote_agent import PROTOCOL_VERSION


def _clean(obj: Any) -> Any:
    """JSON-safe: numbers as floats/ints (NaN → None), tensors and numpy scalars via float()."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    try:
        return _clean(float(obj))  # 0-d tensors, numpy scalars
    except (TypeError, ValueError):
        return str(obj)


class Emitter:
    """Writes events to a file descriptor, one line each, whole lines only (thread-safe)."""

    def __init__(self, job: str, fd: int) -> None:
        self.job = job
        self._fd = fd
        self._lock = threading.Lock()

    def emit(self, type_: str, **fields: Any) -> None:
        event = {"type": type_, "job": self.job, "t": round(time.time(), 3), **_clean(fields)}
        line = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(line)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]

    def started(self, **fields: Any) -> None:
        self.emit("started", protocol=PROTOCOL_VERSION, pid=os.getpid(), pgid=os.getpgid(0), **fields)


class ConsoleCapture:
    """Point fd 1 and 2 at a pipe; a thread turns what arrives into ``log`` events."""

    def __init__(self, emitter: Emitter) -> None:
        self._emitter = emitter
        self._read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._thread = threading.Thread(target=self._pump, name="console-capture", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                chunk = os.read(self._read_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            text = decoder.decode(chunk)
            if text:
                self._emitter.emit("log", text=text)
        tail = decoder.decode(b"", final=True)
        if tail:
            self._emitter.emit("log", text=tail)

    def close(self, timeout: float = 5.0) -> None:
        """Flush and stop: close our ends of fd 1/2 so the reader sees end-of-file."""
        import sys

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        self._thread.join(timeout)
