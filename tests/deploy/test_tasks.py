"""Every task through one endpoint, each model swapped in under load: the answers equal ``Results.summary`` and no
request fails while models change."""

from __future__ import annotations

import threading

import httpx
import pytest

SHAPE_KEYS = {"detect": {"name", "class", "confidence", "box"}, "segment": {"name", "class", "confidence", "box",
              "segments"}, "pose": {"name", "class", "confidence", "box", "keypoints"},
              "obb": {"name", "class", "confidence", "box"}, "classify": {"name", "class", "confidence"}}


def summary_here(weights, image, task):
    """What ultralytics gives in this process for the same picture and arguments."""
    from ultralytics import YOLO

    r = YOLO(str(weights), task=task).predict(str(image), conf=0.001, iou=0.7, imgsz=64, verbose=False)[0]
    return list(r.orig_shape), r.summary(normalize=False, decimals=5)


@pytest.mark.slow
def test_replace_through_every_task_under_load(start_endpoint, task_weights, task_images):
    ep = start_endpoint(model=str(task_weights["detect"]), name="first")
    ep.wait_state("Ready", timeout=90)
    url = ep.url
    stop = threading.Event()
    statuses: list[int] = []
    load_picture = task_images["detect"].read_bytes()

    def hammer() -> None:  # clients that never pause while models are swapped
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                statuses.append(http.post(f"{url}/predict", headers=ep.auth, files={"file": load_picture}).status_code)

    clients = [threading.Thread(target=hammer) for _ in range(4)]
    for t in clients:
        t.start()
    try:
        seen = {}
        for task in ("detect", "segment", "pose", "obb", "classify"):
            if task != "detect":
                before = len(statuses)
                ep.replace(model=str(task_weights[task]), task=task, name=f"{task}-model")
                ep.wait_for(lambda e, task=task: e["type"] == "endpoint" and e.get("replaced")
                            and e.get("task") == task, timeout=60)
                assert len(statuses) > before, "no request was served while the model was loading"
            with open(task_images[task], "rb") as f:
                r = httpx.post(f"{url}/predict", headers=ep.auth, files={"file": f}, data={"conf": "0.001"})
            assert r.status_code == 200, r.text
            doc = r.json()
            assert doc["metadata"]["task"] == task
            assert doc["metadata"]["model"] == ("first" if task == "detect" else f"{task}-model")
            shape, want = summary_here(task_weights[task], task_images[task], task)
            got = doc["images"][0]
            assert got["shape"] == shape and len(want) > 0
            assert got["results"] == want, task
            assert all(set(row) == SHAPE_KEYS[task] for row in got["results"]), task
            seen[task] = len(want)
        # a model that cannot be loaded leaves the one serving in place
        ep.replace(model=str(task_images["detect"].with_suffix(".pt")))
        failed = ep.wait_for(lambda e: e["type"] == "endpoint" and e.get("replace_failed"), timeout=30)
        assert "not there" in failed["replace_failed"]
        r = httpx.post(f"{url}/predict", headers=ep.auth, files={"file": load_picture})
        assert r.status_code == 200 and r.json()["metadata"]["task"] == "classify"
    finally:
        stop.set()
        for t in clients:
            t.join(60)
    assert len(statuses) >= 50 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert ep.wait_state("Ready")["url"] == url  # the URL never changed
    assert ep.stop() == 0 and ep.events[-1]["result"]["replacements"] == 5
    assert seen.keys() == SHAPE_KEYS.keys()
