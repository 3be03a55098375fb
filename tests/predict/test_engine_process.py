"""The predict engine in a helper process: the GUI process never imports torch, a killed helper is said and replaced,
closing stops it, and the loading gate's refusals cross the pipe as the same exceptions with their fields."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
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
        pid = engine.helper_pid()
    finally:
        engine.close()
    assert pid is not None and engine.helper_pid() is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # the process ended


def test_a_paced_helper_sends_a_live_picture_only_once_the_last_was_taken_yet_counts_every_frame(checkpoints):
    import numpy as np

    from app.predict.sources import ReplayFrames

    folder, _ = checkpoints
    outcomes = Outcomes()
    engine = ProcessPredictEngine(outcomes, paced=True)
    frames = [np.full((64, 64, 3), 90, np.uint8) for _ in range(600)]
    for i, f in enumerate(frames):
        f[0, 0, :2] = i % 256, i // 256  # each frame says which it is
    try:
        engine.set_params(imgsz=64)
        engine.load(BackendChoice("PyTorch", "pt", str(folder / "detect_yolo26n.pt"), None, True), "detect", [])
        assert outcomes.next_load().error is None
        engine.start_live(ReplayFrames(frames, fps=200, seconds=2.5))  # a source far faster than the taker below
        taken, backlog = 0, []  # pictures arrived and not yet taken, seen at each take
        while True:  # the GUI side: takes a picture, paints it for 0.3 s, says so
            with outcomes.cond:
                assert outcomes.cond.wait_for(lambda n=taken: len(outcomes.got) > n, 60)
                o = outcomes.got[taken]
                backlog.append(sum(q.prediction is not None for q in outcomes.got[taken + 1:]))
            taken += 1
            if o.ended:
                break
            if o.prediction is not None:
                o.prediction.render()  # painted, as the tab does: the helper draws the next results this way
            time.sleep(0.3)
            engine.frame_taken()
        pictures = [o for o in outcomes.got if o.live and o.prediction is not None]
        frame = pictures[-1].prediction.original()  # the frame stayed in the helper until asked for
    finally:
        engine.close()
    ended = outcomes.got[-1]
    assert ended.ended and ended.error is None and not engine.live
    assert max(backlog) <= 1, backlog  # one picture ahead at most: the run's last frame, sent whatever the credit
    assert engine.frames_done >= 2 * len(pictures) and len(pictures) >= 2, (engine.frames_done, len(pictures))
    assert pictures[0].image is not None  # no toggles drawn with yet: the frame came, to be drawn on request
    assert all(o.image is None and o.prediction.drawn for o in pictures[2:])  # then only the drawing travels
    assert engine.live_stats["fps"] > 0
    last = frame[0, 0].astype(int)
    assert outcomes.got[-2] is pictures[-1] and last[0] + 256 * last[1] == engine.frames_read - 1  # the last frame read


def test_a_helper_that_stops_answering_is_ended_said_and_replaced(checkpoints):
    import os
    import signal

    import numpy as np

    folder, _ = checkpoints
    outcomes = Outcomes()
    engine = ProcessPredictEngine(outcomes, hung_after_s=3)
    try:
        engine.set_params(imgsz=64)
        engine.load(BackendChoice("PyTorch", "pt", str(folder / "detect_yolo26n.pt"), None, True), "detect", [])
        assert outcomes.next_load().error is None
        time.sleep(4)  # idle longer than the limit: its heartbeat keeps a quiet helper alive
        stuck = engine.helper_pid()
        assert stuck is not None
        os.kill(stuck, signal.SIGSTOP)  # a process that no longer runs a line: as stuck as it gets
        t0 = time.monotonic()
        engine.submit(np.full((64, 64, 3), 90, np.uint8), tag="still")
        with outcomes.cond:
            assert outcomes.cond.wait_for(lambda: any(o.error for o in outcomes.got), 30)
            said = next(o for o in outcomes.got if o.error)
        waited = time.monotonic() - t0
        assert "stopped answering for 3 s and was ended" in str(said.error), said.error
        assert 1.5 < waited < 15, waited  # 3 s of silence, counted from its last heartbeat (≤ 1 s before the stop)
        assert engine.helper_pid() is None
        assert not psutil.pid_exists(stuck) or psutil.Process(stuck).status() == psutil.STATUS_ZOMBIE
        n = len(outcomes.got)
        engine.submit(np.full((64, 64, 3), 90, np.uint8), tag="again")  # a fresh helper, the model loaded again first
        with outcomes.cond:
            assert outcomes.cond.wait_for(lambda: any(o.tag == "again" for o in outcomes.got[n:]), 120)
            again = next(o for o in outcomes.got[n:] if o.tag == "again")
        assert again.error is None and again.prediction is not None
        assert engine.helper_pid() not in (None, stuck)
    finally:
        engine.close()
