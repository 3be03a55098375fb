"""The val job kind through the job manager and the CLI: checks before a job, the row and its file, compare,
and the validation queued by itself after a training."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from app.cli import main
from app.jobs.manager import JobManager
from app.jobs.spec import TrainRequest
from app.library.repository import Library
from app.validation.store import list_validations, load_capture
from tests.helpers import FAST


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _import(home: Path, *files: Path) -> list[str]:
    lib = Library(home)
    try:
        return [lib.import_checkpoint(f).model.id for f in files]
    finally:
        lib.close()


def test_cli_val_validations_and_compare(capsys, home, checkpoints):
    folder, manifest = checkpoints
    detect, other = _import(home, folder / "detect_yolo26n.pt", folder / "last_mid.pt")
    code, out, err = run(capsys, "val", detect, "workers=0", "batch=4", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert "images" not in shown and shown["id"] and shown["task"] == "detect"
    assert shown["names"] == manifest["detect_yolo26n.pt"]["names"]
    assert len(shown["confusion_matrix"]) == 3 and shown["split"] == "val"
    assert shown["data"] == manifest["detect_yolo26n.pt"]["data"]  # the model's own data set by default
    lib = Library(home)
    try:
        (rec,) = list_validations(lib, detect)
        assert rec.id == shown["id"] and Path(rec.path).is_file() and str(rec.path).startswith(str(home))
        assert load_capture(rec)["images"] and rec.summary["overall"] == shown["overall"]
        assert lib.check().clean  # the file has its row, the row its file
    finally:
        lib.close()
    code, out, _ = run(capsys, "validations", detect, "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [shown["id"]]
    code, out, err = run(capsys, "compare", detect, other, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [m["id"] for m in result["models"]] == [detect, other]
    assert result["models"][0]["validation"]["id"] == shown["id"] and result["models"][1]["validation"] is None
    assert result["unvalidated"] == [result["models"][1]["name"]]
    assert result["models"][0]["training"]["epochs"] == 2


@pytest.mark.parametrize(("argv", "verdict"), [
    (["conf=1.5"], "yolodesk val: conf: must be a number from 0 to 1, not 1.5"),
    (["cnf=0.3"], "yolodesk val: cnf: not a validation argument; did you mean conf?"),
    (["split=test"], "has no test split"),
    (["data=/no/such/data.yaml"], "yolodesk val: data: /no/such/data.yaml does not exist"),
    (["plots=true"], "yolodesk val: plots: not a validation argument"),
])
def test_cli_val_refuses_bad_input_in_one_line_and_writes_nothing(capsys, home, checkpoints, argv, verdict):
    folder, _ = checkpoints
    (model,) = _import(home, folder / "detect_yolo26n.pt")
    code, out, err = run(capsys, "val", model, *argv)
    assert code == 2 and verdict in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    lib = Library(home)
    try:
        assert list_validations(lib, model) == [] and JobManager(lib).store.list() == []
    finally:
        lib.close()


def test_cli_val_of_a_classifier_on_a_box_data_set_is_refused(capsys, home, checkpoints):
    folder, manifest = checkpoints
    (model,) = _import(home, folder / "classify_yolo11n.pt")
    code, _, err = run(capsys, "val", model, f"data={manifest['detect_yolo26n.pt']['data']}")
    assert code == 2 and "is a data.yaml of boxes" in err and "classify model" in err
    code, _, err = run(capsys, "compare", model)
    assert code == 1 and err.strip() == "yolodesk compare: compare takes 2 to 6 models, not 1"


@pytest.mark.slow  # trains a real model
def test_a_training_validates_its_model_by_itself(lib, tiny_data):
    manager = JobManager(lib, poll_interval=0.05)
    try:
        job = manager.submit_train(TrainRequest(model="yolo26n.yaml", task="detect", data=str(tiny_data["detect"]),
                                                epochs=1, imgsz=64, batch=4, extra=dict(FAST)))
        job = manager.wait(job.id, 300)
        assert job.status == "Completed", job.error
        val_job = manager.store.get(job.result["validation_job"])
        assert val_job.kind == "val" and val_job.model_id == job.model_id and val_job.worker == job.worker
        assert val_job.spec["args"]["data"] == str(tiny_data["detect"]) and val_job.spec["args"]["imgsz"] == 64
        val_job = manager.wait(val_job.id, 300)
        assert val_job.status == "Completed", val_job.error
        (rec,) = list_validations(lib, job.model_id)
        assert (rec.job_id, rec.split, rec.data) == (val_job.id, "val", str(tiny_data["detect"]))
        assert rec.dataset_id == lib.model(job.model_id).dataset.id
        capture = load_capture(rec)
        assert capture["names"] == lib.model(job.model_id).class_names and len(capture["images"]) == 4
    finally:
        for j in manager.store.list(("Queued", "Starting", "Running")):
            manager.cancel(j.id)
        time.sleep(0.2)
        manager.shutdown()
