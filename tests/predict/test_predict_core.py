"""Prediction without Qt: sources and their errors, every task's results, backends, the engine's newest-frame loop."""

from __future__ import annotations

import json
import threading
import time

import cv2
import numpy as np
import pytest

from app.predict.engine import PredictEngine
from app.predict.session import BackendChoice, NeedsTrust, PredictSession, backend_choices
from app.predict.sources import FrameSource, SourceError, SyntheticFrames, fetch_url, folder_images, load_image
from tests.helpers import picture

TASKS = {"detect": "detect_yolo26n.pt", "segment": "segment_yolov8n.pt", "pose": "pose_yolo11n.pt",
         "obb": "obb_yolo26n.pt", "classify": "classify_yolo11n.pt"}


def pt(folder, name) -> BackendChoice:
    return BackendChoice("PyTorch", "pt", str(folder / name), None, True)


@pytest.mark.parametrize("task", list(TASKS))
def test_each_task_gives_its_own_results_and_overlay(task, checkpoints, home):
    folder, _ = checkpoints
    session = PredictSession(pt(folder, TASKS[task]), task)
    img = picture(256)
    p = session.predict(img, conf=0.001, imgsz=64)
    assert p.task == task and p.backend == "PyTorch" and p.shape == (256, 256)
    assert set(p.speed) == {"preprocess", "inference", "postprocess"}
    data = json.loads(json.dumps(p.to_json()))
    if task == "classify":
        assert len(data["top5"]) == 2 and {"class", "name", "confidence"} <= set(data["top5"][0])  # 2 classes
        assert data["detections"] == []
    else:
        assert data["detections"], "an untrained model still yields low-confidence boxes at conf=0.001"
        d = data["detections"][0]
        assert {"class", "name", "confidence", "box"} <= set(d) and len(d["box"]) == 4
        assert d["name"] in ("square", "disc")
        extra = {"segment": "mask", "pose": "keypoints", "obb": "obb"}.get(task)
        if extra:
            assert extra in d
        if task == "obb":
            assert len(d["obb"]) == 4 and "angle" in d
        if task == "pose":
            assert len(d["keypoints"][0]) == 3
    drawn = p.render()
    assert drawn.shape == img.shape and not np.array_equal(drawn, img)  # ultralytics drew on a copy
    plain = p.render(labels=False, conf=False, boxes=False, masks=False)
    if task == "pose":  # no toggle hides keypoints: exactly they are left, as ultralytics draws them alone
        from ultralytics.utils.plotting import Annotator

        only_keypoints = Annotator(img.copy())
        for k in reversed(p.results.keypoints.cpu().numpy().data):
            only_keypoints.kpts(k, radius=5, kpt_line=True)
        assert not np.array_equal(only_keypoints.result(), img), "no keypoint is visible: the check would be empty"
        assert np.array_equal(plain, only_keypoints.result())
    elif task != "classify":
        assert np.array_equal(plain, img)  # nothing left to draw


def test_pytorch_backend_uses_every_core(checkpoints, home):
    import os

    import torch

    folder, _ = checkpoints
    session = PredictSession(pt(folder, TASKS["detect"]), "detect")
    session.predict(picture(128), imgsz=64)
    assert torch.get_num_threads() == os.cpu_count()  # not ultralytics' min(8, cpus - 1)


def test_a_checkpoint_the_safe_loader_refuses_needs_trust(checkpoints, home, tmp_path):
    import argparse

    import torch

    folder, _ = checkpoints
    ckpt = torch.load(folder / TASKS["detect"], weights_only=False)
    ckpt["opt"] = argparse.Namespace(epochs=3)  # as old training scripts saved them: outside the allow-list
    odd = tmp_path / "odd.pt"
    torch.save(ckpt, odd)
    with pytest.raises(NeedsTrust, match="runs whatever code the file contains"):
        PredictSession(BackendChoice("PyTorch", "pt", str(odd), None, True), "detect")
    session = PredictSession(BackendChoice("PyTorch", "pt", str(odd), None, True), "detect", trusted=True)
    assert session.predict(picture(128), imgsz=64).task == "detect"
    with pytest.raises(NeedsTrust):  # trusting one load did not leave the safe loader off
        PredictSession(BackendChoice("PyTorch", "pt", str(odd), None, True), "detect")


def test_verified_exports_are_preferred_to_the_pt(lib, checkpoints):
    from app.exporters.store import ExportStore
    from app.jobs.manager import JobManager

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / TASKS["detect"]).model
    assert [c.format for c in backend_choices(model.weights_path, [])] == ["pt"]
    manager = JobManager(lib, poll_interval=0.05)
    job = manager.wait(manager.submit_export(model.id, "onnx", {"imgsz": 64}).id, 300)
    assert job.status == "Completed", job.error
    manager.shutdown()
    exports = ExportStore(lib).for_model(model.id)
    choices = backend_choices(model.weights_path, exports, cuda=False)
    assert [c.format for c in choices] == ["onnx", "pt"] and choices[0].imgsz == 64
    session = PredictSession(choices[0], "detect")
    p = session.predict(picture(256), conf=0.001, imgsz=640)  # an export runs at the size it was built for
    assert p.backend == "ONNX Runtime" and p.detections
    unverified = [e.__class__(**{**e.__dict__, "verified": False}) for e in exports]
    assert [c.format for c in backend_choices(model.weights_path, unverified, cuda=False)] == ["pt"]


def test_sources_read_and_refuse_clearly(tmp_path, http_root, video):
    base, root = http_root
    cv2.imwrite(str(root / "ok.png"), picture(64))
    (root / "page.html").write_text("<html>hi</html>")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    big = np.zeros((9000, 9000, 3), np.uint8)  # 81 MP: over the limit, and cheap to encode
    cv2.imwrite(str(root / "huge.png"), big)
    cv2.imwrite(str(root / "noise.png"), np.random.default_rng(0).integers(0, 255, (800, 800, 3), dtype=np.uint8))
    assert fetch_url(f"{base}/ok.png").shape == (64, 64, 3)
    with pytest.raises(SourceError, match="is not an image"):
        fetch_url(f"{base}/page.html")
    with pytest.raises(SourceError, match="404"):
        fetch_url(f"{base}/missing.png")
    with pytest.raises(SourceError, match="not an http"):
        fetch_url("file:///etc/passwd")
    with pytest.raises(SourceError, match="could not be reached"):
        fetch_url("http://127.0.0.1:9/x.png", timeout=2)
    with pytest.raises(SourceError, match="over the 1 MB limit"):
        fetch_url(f"{base}/noise.png", max_bytes=1 << 20)  # ~1.9 MB
    with pytest.raises(SourceError, match="too large to predict on"):
        fetch_url(f"{base}/huge.png")
    with pytest.raises(SourceError, match="not an image|damaged"):
        load_image(root / "broken.png")
    with pytest.raises(SourceError, match="does not exist"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(SourceError, match="holds no images"):
        folder_images(tmp_path)
    assert [p.name for p in folder_images(root)] == ["broken.png", "huge.png", "noise.png", "ok.png"]
    fs = FrameSource(str(video))
    assert fs.read().shape == (160, 160, 3) and fs.frame_count == 60 and abs(fs.fps - 30) < 1
    fs.release()
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 1000)
    with pytest.raises(SourceError, match="not a video OpenCV can read|damaged or empty"):
        FrameSource(str(corrupt))
    with pytest.raises(SourceError, match="camera 57 could not be opened"):
        FrameSource(57)


class SlowSession:
    """A model that takes 100 ms a frame, to prove the live loop drops frames instead of queueing them."""

    def __init__(self) -> None:
        self.seen = 0

    def predict(self, image, **_kw):
        time.sleep(0.1)
        self.seen += 1
        return type("P", (), {"detections": [], "task": "detect"})()


def test_live_loop_keeps_only_the_newest_frame_when_inference_is_slow():
    got = []
    engine = PredictEngine(got.append)
    engine.session = SlowSession()
    source = SyntheticFrames(size=64, fps=100, count=150)  # 1.5 s of frames, 10× faster than the model
    engine.start_live(source)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(o.ended for o in got):
        time.sleep(0.05)
    engine.close()
    frames = [o for o in got if o.prediction is not None]
    assert any(o.ended for o in got)
    assert 8 <= len(frames) <= 25  # ~15 processed in 1.5 s, not 150
    assert frames[-1].dropped >= 100  # the rest were dropped, never queued
    assert source.n == 150  # the capture kept pace with the source


def test_live_loop_on_a_video_file_through_the_camera_code_path(checkpoints, home, video):
    folder, _ = checkpoints
    got = []
    done = threading.Event()

    def on(o):
        got.append(o)
        if o.ended:
            done.set()

    engine = PredictEngine(on)
    engine.load(pt(folder, TASKS["detect"]), "detect")
    engine.set_params(conf=0.001, imgsz=64)
    deadline = time.monotonic() + 60
    while not got and time.monotonic() < deadline:  # loaded before the 2 s clip starts, or it is over meanwhile
        time.sleep(0.02)
    engine.start_live(FrameSource(str(video)))
    assert done.wait(60)
    engine.close()
    frames = [o for o in got if o.prediction is not None]
    assert frames and frames[-1].fps > 0 and all(o.live for o in frames)
    assert len(frames) + frames[-1].dropped <= 60


def test_still_requests_collapse_to_the_newest(checkpoints, home):
    folder, _ = checkpoints
    got = []
    engine = PredictEngine(got.append)
    engine.load(pt(folder, TASKS["detect"]), "detect")
    for i in range(20):  # a slider dragged quickly
        engine.submit(picture(128), tag=i)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(o.tag == 19 for o in got):
        time.sleep(0.05)
    engine.close()
    tags = [o.tag for o in got if o.prediction is not None]
    assert tags[-1] == 19 and len(tags) < 20


def test_cli_predict_json_and_save(capsys, checkpoints, home, tmp_path, video):
    from app.cli import main

    folder, _ = checkpoints
    img = tmp_path / "shapes.png"
    cv2.imwrite(str(img), picture(128))
    code = main(["predict", str(folder / TASKS["segment"]), str(img), "conf=0.001", "imgsz=64", "--json",
                 "--save", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    data = [json.loads(line) for line in lines]  # JSON Lines: one object a line
    assert len(lines) == 1 and data[0]["task"] == "segment" and data[0]["backend"] == "PyTorch"
    assert set(data[0]["speed"]) == {"preprocess", "inference", "postprocess"} and "mask" in data[0]["detections"][0]
    assert (tmp_path / "out" / "shapes.jpg").exists()
    code = main(["predict", str(folder / TASKS["classify"]), str(video), "imgsz=64", "--json"])
    frames = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(frames) == 60 and frames[0]["source"].endswith("#0") and len(frames[0]["top5"]) == 2
    assert main(["predict", str(folder / TASKS["detect"]), str(tmp_path / "nope.png")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["predict", str(folder / TASKS["detect"]), str(img), "bogus=1"]) == 2
