"""The predict engine in a helper process: the GUI process never imports torch, a killed helper is said and replaced,
closing stops it, and the loading gate's refusals cross the pipe as the same exceptions with their fields."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.predict.engine import Outcome
from app.predict.engine_proxy import ProcessPredictEngine
from app.predict.session import BackendChoice, NeedsTrust, PredictError, PredictSession
from remote_agent.checkpoint_scan import sha256_file

SCRIPT = Path(__file__).with_name("predict_window_script.py")


def test_a_window_predicts_without_torch_survives_a_killed_helper_and_leaves_no_process(checkpoints, tmp_path):
    folder, _ = checkpoints
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "home"), str(folder / "detect_yolo26n.pt")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["ready"] and seen["painted"] and seen["detections"] > 0, seen
    assert seen["toggle_redrawn"], seen
    assert seen["heavy_in_gui"] == [] and seen["heavy_in_gui_at_end"] == [], seen  # torch stayed in the helper
    assert seen["helper_is_child"] and seen["live_frames"], seen
    assert seen["error_shown"] and "predict helper process stopped (killed by SIGKILL)" in seen["error"], seen
    assert not seen["live_after_kill"], seen
    assert seen["recovered"] and seen["fresh_helper"], seen
    assert not seen["helper_left"] and seen["children_left"] == [], seen


class Outcomes:
    """What the engine reported, waited for by a condition."""

    def __init__(self) -> None:
        self.got: list[Outcome] = []
        self.cond = threading.Condition()

    def __call__(self, o: Outcome) -> None:
        with self.cond:
            self.got.append(o)
            self.cond.notify_all()

    def next_load(self, timeout: float = 120) -> Outcome:
        with self.cond:
            start = len(self.got)
            assert self.cond.wait_for(lambda: any(o.tag and o.tag[0] == "load" for o in self.got[start:]), timeout)
            return next(o for o in self.got[start:] if o.tag and o.tag[0] == "load")


def test_the_gate_refusal_crosses_the_pipe_as_needs_trust_with_its_fields(checkpoints, tmp_path, home):
    import torch

    folder, _ = checkpoints
    ck = torch.load(folder / "detect_yolo26n.pt", weights_only=False)
    ck["opt"] = argparse.Namespace(epochs=3)  # a class the safe loader refuses
    odd = tmp_path / "odd.pt"
    torch.save(ck, odd)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint at all")
    outcomes = Outcomes()
    engine = ProcessPredictEngine(outcomes)
    try:
        refused = BackendChoice("PyTorch", "pt", str(odd), None, True)
        engine.load(refused, "detect", [])
        o = outcomes.next_load()
        with pytest.raises(NeedsTrust) as here:
            PredictSession(refused, "detect", [])  # what the in-process engine reported
        assert type(o.error) is NeedsTrust and o.tag == ("load", refused)
        assert (o.error.path, o.error.sha256) == (here.value.path, here.value.sha256)
        assert str(o.error).startswith("odd.pt: the safe loader refused it") and "runs whatever code" in str(o.error)
        assert o.error.sha256 == sha256_file(odd)
        engine.load(refused, "detect", [o.error.sha256])  # the user trusted it
        assert outcomes.next_load().error is None
        bad = BackendChoice("PyTorch", "pt", str(broken), None, True)
        engine.load(bad, "detect", [])
        o = outcomes.next_load()
        with pytest.raises(PredictError) as here:
            PredictSession(bad, "detect", [])
        assert type(o.error) is type(here.value) and str(o.error) == str(here.value)
    finally:
        engine.close()
    assert engine.helper_pid() is None
