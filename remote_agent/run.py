"""``python -m remote_agent run SPEC.json``: run one job, write events on stdout, exit 0 unless it failed."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from remote_agent.checkpoint_scan import CheckpointError
from remote_agent.events import ConsoleCapture, Emitter
from remote_agent.export import run_export
from remote_agent.gate import require_safe_load_env
from remote_agent.serve import run_serve
from remote_agent.system import SystemSampler
from remote_agent.train import CancelFlag, run_train

KINDS = {"train": run_train, "export": run_export, "serve": run_serve}


def run(spec_path: str) -> int:
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text() if spec_path != "-" else sys.stdin.read())
    require_safe_load_env()  # before any ultralytics import: every load in this process is safe unless gated otherwise
    job = str(spec["id"])
    emitter = Emitter(job, os.dup(1))  # the real stdout carries events only
    capture = ConsoleCapture(emitter)  # from here on, fd 1 and 2 become `log` events
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    cancel = CancelFlag()
    signal.signal(signal.SIGTERM, lambda *_: cancel.request())
    run_dir = Path(spec["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(run_dir)
    emitter.started(kind=spec.get("kind"), host=socket.gethostname(), python=sys.version.split()[0],
                    executable=sys.executable, run_dir=str(run_dir))
    sampler = SystemSampler(emitter, str(run_dir), float(spec.get("system_interval", 2.0)))
    sampler.start()
    outcome: tuple[str, dict[str, Any]]
    try:
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}; this agent runs: {', '.join(KINDS)}")
        outcome = KINDS[kind](spec, emitter, cancel)
    except CheckpointError as e:  # the loading gate's verdict: a refusal, not a crash, so no traceback
        print(f"refused: {e.message}")
        outcome = ("failed", {"error": e.code, "message": e.message, **e.details})
    except BaseException as e:  # everything ends in one terminal event, KeyboardInterrupt included
        traceback.print_exc()
        message = str(e) or type(e).__name__
        outcome = ("failed", {"error": type(e).__name__, "message": message, "traceback": traceback.format_exc()})
    sampler.stop()
    capture.close()  # every console line is out before the terminal event
    state, result = outcome
    if state == "failed":
        emitter.emit("failed", **result)
        return 1
    if state == "cancelled":
        emitter.emit("cancelled", result=result)
        return 0
    emitter.emit("completed", result=result)
    return 0
