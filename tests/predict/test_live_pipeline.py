"""The pipelined live loop (app/predict/pipeline.py) with real models: the same results as one predict call per
frame, in frame order, new parameters on the next frames, stale frames dropped, a prompt stop, errors, latency."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.predict.engine import Outcome, PredictEngine
from app.predict.session import BackendChoice, Prediction, PredictSession
from app.predict.sources import SyntheticFrames
from tests.helpers import picture

TASKS = {"detect": "detect_yolo26n.pt", "segment": "segment_yolov8n.pt", "pose": "pose_yolo11n.pt",
         "obb": "obb_yolo26n.pt", "classify": "classify_yolo11n.pt"}


class Clip:
    """Distinct frames served like a camera at ``fps``; remembers each.

    The fixture models are barely trained and answer every picture alike, so each frame has its own height:
    boxes are scaled back to the frame, so a result given to the wrong frame shows.
    """

    is_camera = True

    def __init__(self, count: int, fps: float, size: int = 160, bad_at: int | None = None) -> None:
        base = picture(size)
        self.frames = []
        for i in range(count):
            f = np.ascontiguousarray(base[: size - (i % 10) * (size // 20)])
            grey = bad_at is not None and i >= bad_at  # a camera switched to grey frames: what no model accepts
            self.frames.append(f[:, :, 0].copy() if grey else f)
        self.fps, self.n, self.released = fps, 0, False
        self._next = time.monotonic()

    def index(self, image: np.ndarray) -> int:
        return next(i for i, f in enumerate(self.frames) if f is image)

    def read(self) -> np.ndarray | None:
        if self.n >= len(self.frames):
            return None
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic())
        self.n += 1
        return self.frames[self.n - 1]

    def release(self) -> None:
        self.released = True


@pytest.fixture(scope="module")
def sessions(checkpoints, tmp_path_factory):
    folder, _ = checkpoints
    loaded: dict[str, PredictSession] = {}

    def get(task: str) -> PredictSession:
        if task not in loaded:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("YOLODESK_HOME", str(tmp_path_factory.mktemp("home")))
                choice = BackendChoice("PyTorch", "pt", str(folder / TASKS[task]), None, True)
                loaded[task] = PredictSession(choice, task)
            for imgsz in (64, 96):  # torch's first call at a new input shape is slow: not during a live run
                loaded[task].predict(picture(160), conf=0.001, imgsz=imgsz)
        return loaded[task]

    return get


def run_live(session: PredictSession, source, params: dict, change: tuple[int, dict] | None = None,
             timeout: float = 60) -> list[Outcome]:
    """Run ``source`` live to its end; ``change``: once the source gave that many frames, set these parameters."""
    got: list[Outcome] = []
    done = threading.Event()
    engine = PredictEngine(lambda o: (got.append(o), o.ended and done.set()))
    engine.session = session
    engine.set_params(**params)
    changed = False

    engine.start_live(source)
    deadline = time.monotonic() + timeout
    while not done.wait(0.005) and time.monotonic() < deadline:
        if change and not changed and source.n >= change[0]:
            engine.set_params(**change[1])
            changed = True
    engine.close()
    assert done.is_set(), "the video never ended"
    return got


def same(a: Prediction, b: Prediction) -> bool:
    """The same classes, boxes (and masks, keypoints, rotated boxes) and top-5, to float rounding."""
    if a.task == "classify":
        return [t["class"] for t in a.top5] == [t["class"] for t in b.top5] and np.allclose(
            [t["confidence"] for t in a.top5], [t["confidence"] for t in b.top5], atol=1e-4)
    if [d.cls for d in a.detections] != [d.cls for d in b.detections]:
        return False
    for x, y in zip(a.detections, b.detections, strict=True):
        for field in ("box", "polygon", "keypoints", "corners"):
            u, v = getattr(x, field), getattr(y, field)
            if (u is None) != (v is None) or (u is not None and not np.allclose(u, v, atol=1e-3)):
                return False
        if abs(x.confidence - y.confidence) > 1e-4:
            return False
    return True


def test_pipelined_results_equal_one_predict_per_frame_in_order_and_follow_new_parameters(sessions):
    session = sessions("detect")
    clip = Clip(count=40, fps=30)  # 25 frames after the change: time for its re-set-up on a loaded CI
    got = run_live(session, clip, {"conf": 0.001, "imgsz": 64}, change=(15, {"conf": 0.004, "imgsz": 96}))
    live = [o for o in got if o.prediction is not None]
    assert got[-1].ended and got[-1].error is None and not any(o.error for o in got)
    order = [clip.index(o.image) for o in live]
    assert order == sorted(order) and len(set(order)) == len(order)  # frame order, each frame once
    assert len(live) + got[-1].dropped == clip.n == 40  # every frame predicted or dropped: none lost
    new_from = None
    for i, o in enumerate(live):
        before = session.predict(o.image, conf=0.001, imgsz=64)
        after = session.predict(o.image, conf=0.004, imgsz=96)
        assert before.detections and after.detections and not same(before, after)  # the check tells them apart
        if new_from is None and same(o.prediction, after):
            new_from = i
        expected = before if new_from is None else after  # once the new settings apply, every later frame has them
        assert same(o.prediction, expected), f"frame {order[i]} differs from its own predict call"
        assert o.prediction.source == "camera" and set(o.prediction.speed) == {"preprocess", "inference",
                                                                                 "postprocess"}
        assert o.prediction.speed["inference"] > 0 and o.latency_ms >= o.prediction.speed["inference"]
        assert 0 < o.latency_ms < 10_000 and o.captured_at > 0
        assert (time.monotonic() - o.captured_at) * 1000 >= o.latency_ms  # captured before its result came
    assert new_from is not None and 0 < new_from < len(live) - 3, "the new conf and imgsz never took effect"


@pytest.mark.parametrize("task", ["segment", "pose", "obb", "classify"])
def test_every_task_runs_pipelined_with_the_same_results(sessions, task):
    session = sessions(task)
    clip = Clip(count=8, fps=10)  # slow enough that a loaded 2-core CI still predicts most frames
    got = run_live(session, clip, {"conf": 0.001, "imgsz": 64})
    live = [o for o in got if o.prediction is not None]
    assert len(live) >= 4 and not any(o.error for o in got)
    for o in live:
        assert o.prediction.task == task
        assert same(o.prediction, session.predict(o.image, conf=0.001, imgsz=64))
    assert live[-1].prediction.render().shape == live[-1].image.shape  # ultralytics draws it as a still's


def test_a_faster_source_has_its_stale_frames_dropped_not_queued(sessions):
    session = sessions("detect")
    clip = Clip(count=150, fps=500, size=320)  # 0.3 s of frames, far faster than the model at 320
    got = run_live(session, clip, {"conf": 0.25, "imgsz": 320})
    live = [o for o in got if o.prediction is not None]
    assert clip.n == 150 and got[-1].ended
    assert len(live) + got[-1].dropped == 150  # each frame predicted once or dropped, none lost
    assert len(live) < 150 / 3, f"{len(live)} of 150 frames predicted: they were queued, not dropped"
    # no backlog: the last result is about as fresh as the first ones (a queue would make it ~0.3 s older)
    inference = max(o.prediction.speed["inference"] for o in live)
    assert live[-1].latency_ms < 4 * inference + 250, [round(o.latency_ms) for o in live]


def test_stop_is_prompt_releases_the_camera_and_nothing_arrives_after_it(sessions):
    session = sessions("detect")
    got: list[Outcome] = []
    engine = PredictEngine(got.append)
    engine.session = session
    engine.set_params(imgsz=320)
    source = SyntheticFrames(size=320, fps=200)  # an endless camera keeping the pipeline full
    released = threading.Event()
    source.release = released.set
    engine.start_live(source)
    deadline = time.monotonic() + 30
    while len(got) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(got) >= 6, f"only {len(got)} results before the stop"
    t0 = time.monotonic()
    engine.stop_live()
    stopped_in = time.monotonic() - t0
    seen = len(got)
    time.sleep(0.4)  # what was in the pipeline at the stop is done by now
    engine.close()
    assert stopped_in < 3.0 and released.is_set() and not engine.live
    assert len(got) == seen, f"{len(got) - seen} results arrived after the stop"
    assert all(o.error is None and not o.ended for o in got)


def test_a_frame_the_model_cannot_take_stops_the_run_with_one_clear_error(sessions):
    session = sessions("detect")
    clip = Clip(count=30, fps=30, bad_at=5)
    got = run_live(session, clip, {"conf": 0.25, "imgsz": 64})
    assert got[-1].ended and got[-1].live and "PyTorch failed on this frame" in str(got[-1].error)
    before = [clip.index(o.image) for o in got[:-1]]
    assert before and before == sorted(before) and before[-1] < 5  # the good frames' results first, in order
    assert not any(o.error for o in got[:-1]) and sum(o.error is not None for o in got) == 1
    assert clip.released and clip.n < 30  # the camera was let go at the error


@pytest.fixture(scope="module")
def openvino_session(checkpoints, tmp_path_factory):
    """The detect model exported to OpenVINO at 320 px (ultralytics' own export, on a copy), loaded as the tab does.

    At 320 inference (~10 ms) is long next to preparing a frame (~1 ms), so a fast source keeps two in flight; at
    96 the two were as often apart as together and the stream count read like chance on a loaded CI."""
    import shutil

    from remote_agent.gate import load_yolo

    folder, _ = checkpoints
    work = tmp_path_factory.mktemp("ov")
    shutil.copy(folder / TASKS["detect"], work / "detect.pt")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("YOLODESK_HOME", str(work / "home"))
        exported = load_yolo(work / "detect.pt", task="detect").export(format="openvino", imgsz=320)
        kept = shutil.copytree(exported, work / "detect_openvino_model")  # the gate's working copy goes away
        return PredictSession(BackendChoice("OpenVINO", "openvino", str(kept), 320, True), "detect")


def test_openvino_runs_two_streams_live_with_the_same_results_in_order(openvino_session):
    from app.predict import ov_requests

    session = openvino_session
    clip = Clip(count=200, fps=300, size=320)  # faster than the model: two frames in flight, some dropped
    got = run_live(session, clip, {"conf": 0.001, "imgsz": 320})
    live = [o for o in got if o.prediction is not None]
    requests = ov_requests.install(session)
    assert requests is not None and len(requests.requests) >= 2  # THROUGHPUT: a stream per core, 2 here
    assert got[-1].ended and not any(o.error for o in got) and len(live) >= 10, [o.error for o in got if o.error]
    assert all(n > 0 for n in requests.claims), requests.claims  # each inference thread used its own request
    assert requests.alone < sum(requests.claims) / 2  # mostly two at once: the THROUGHPUT streams
    order = [clip.index(o.image) for o in live]
    assert order == sorted(order) and len(set(order)) == len(order)  # two at once, still out in frame order
    assert len(live) + got[-1].dropped == clip.n == 200
    for o in live:  # the THROUGHPUT copy answers as ultralytics' LATENCY model does
        assert same(o.prediction, session.predict(o.image, conf=0.001, imgsz=320)), clip.index(o.image)

    claims, alone = sum(requests.claims), requests.alone
    got = run_live(session, Clip(count=20, fps=15, size=320), {"conf": 0.001, "imgsz": 320})  # slower than the model
    assert got[-1].ended and not any(o.error for o in got)
    asked = sum(requests.claims) - claims
    assert asked >= 10 and requests.alone - alone >= 0.8 * asked  # one frame at a time: every core on it (LATENCY)
