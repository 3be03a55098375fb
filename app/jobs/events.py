"""Reading the agent's event stream: parse lines, follow a growing events file from a byte offset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TERMINAL = ("completed", "failed", "cancelled")


def parse_line(line: bytes | str) -> dict[str, Any] | None:
    """An event dict, or a ``log`` event for a line that is not one (console text from an old agent)."""
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    if not text.strip():
        return None
    try:
        ev = json.loads(text)
    except ValueError:
        return {"type": "log", "text": text if text.endswith("\n") else text + "\n"}
    if not isinstance(ev, dict) or "type" not in ev:
        return {"type": "log", "text": text}
    return ev


@dataclass
class EventFollower:
    """Yields each complete line appended to ``path`` once, remembering the byte offset it reached.

    A line still being written (no newline yet) is left for the next poll, so a reader never
    sees half an event, and a follower restarted at a saved offset neither loses nor repeats one.
    """

    path: Path
    offset: int = 0

    def poll(self, max_bytes: int = 4 << 20) -> Iterator[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(max_bytes)
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for raw in chunk[: end + 1].splitlines():
            ev = parse_line(raw)
            if ev is not None:
                yield ev


def read_all(path: Path) -> list[dict[str, Any]]:
    """Every complete event in a finished (or running) job's file."""
    follower = EventFollower(path)
    out: list[dict[str, Any]] = []
    while True:
        batch = list(follower.poll())
        if not batch:
            return out
        out.extend(batch)


def console_text(events: list[dict[str, Any]]) -> str:
    """The console as the agent printed it (ANSI codes and ``\\r`` kept)."""
    return "".join(e.get("text", "") for e in events if e.get("type") == "log")
