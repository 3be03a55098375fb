"""The agent side of the tests' ``echo`` job kind, loaded by the agent through ``YOLODESK_AGENT_KINDS``.

``echo`` reports one ``progress`` event per word (pausing between them), writes the words to ``echo.txt`` in
its run folder and completes with that file; ``boom`` among the words fails it; SIGTERM stops it between words.
It imports nothing of the app: it runs in the agent's own process, as a real kind's runner does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from remote_agent.events import Emitter
from remote_agent.train import CancelFlag


def run_echo(spec: dict[str, Any], emitter: Emitter, cancel: CancelFlag) -> tuple[str, dict[str, Any]]:
    """Echo the spec's words as progress events; ("completed" | "cancelled", result)."""
    words = [str(w) for w in spec["args"]["words"]]
    pause = float(spec["args"].get("pause", 0.0))
    done: list[str] = []
    for i, word in enumerate(words):
        if cancel.requested:
            return "cancelled", {"words": done}
        if word == "boom":
            raise RuntimeError(f"asked to fail after {len(done)} word(s)")
        emitter.emit("progress", done=i + 1, total=len(words), label=word)
        done.append(word)
        time.sleep(pause)
    out = Path(spec["run_dir"]) / "echo.txt"
    out.write_text(" ".join(done))
    return "completed", {"path": str(out), "words": done}


AGENT_KINDS = {"echo": run_echo}
