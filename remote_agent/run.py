"""``python -m remote_agent run SPEC.json``: run one job, write events on stdout, exit 0 unless it failed.

``KINDS`` is the agent-side twin of the app's registry of job kinds (``app/jobs/kinds.py``): the app's handler of
a kind builds and checks the spec and lands the outcome; the runner of the same name here does the work. A kind
that is not built in comes from a module named in ``YOLODESK_AGENT_KINDS`` (comma-separated, importable by the
agent's interpreter) whose ``AGENT_KINDS`` table maps names to runners; built-in names cannot be replaced.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from remote_agent.checkpoint_scan import CheckpointError
from remote_agent.events import ConsoleCapture, Emitter
from remote_agent.export import run_export
from remote_agent.gate import require_safe_load_env
from remote_agent.serve import run_serve
from remote_agent.system import SystemSampler
from remote_agent.train import CancelFlag, run_train
from remote_agent.val import run_val

Runner = Callable[[dict[str, Any], Emitter, CancelFlag], tuple[str, dict[str, Any]]]
# One runner per kind; the app-side twin of each is the handler of the same name in app/jobs/kinds.py.
KINDS: dict[str, Runner] = {"train": run_train, "export": run_export, "serve": run_serve, "val": run_val}
EXTRA_KINDS_ENV = "YOLODESK_AGENT_KINDS"


def kinds() -> dict[str, Runner]:
    """The built-in kinds plus those of the modules named in ``YOLODESK_AGENT_KINDS`` (their ``AGENT_KINDS``)."""
    table = dict(KINDS)
    for name in filter(None, (n.strip() for n in os.environ.get(EXTRA_KINDS_ENV, "").split(","))):
        extra = vars(importlib.import_module(name)).get("AGENT_KINDS")
        if not isinstance(extra, dict):
            raise ValueError(f"{name} (named in {EXTRA_KINDS_ENV}) has no AGENT_KINDS table of job kinds")
        taken = sorted(set(extra) & set(KINDS))
        if taken:
            raise ValueError(f"{name} (named in {EXTRA_KINDS_ENV}) may not replace the built-in kind {taken[0]!r}")
        table.update(extra)
    return table


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
        runners = kinds()
        if not isinstance(kind, str) or kind not in runners:
            raise ValueError(f"unknown job kind {kind!r}; this agent runs: {', '.join(runners)}")
        outcome = runners[kind](spec, emitter, cancel)
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
