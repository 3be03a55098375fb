"""A val job on a worker through the real sshd: the capture comes back checked, its pictures are this machine's."""

from __future__ import annotations

import time
from pathlib import Path

from app.jobs.manager import JobManager
from app.validation.store import list_validations, load_capture
from app.validation.val_job import start_validation


def test_a_validation_on_a_worker_lands_with_local_image_paths(lib, box, checkpoints):
    folder, manifest = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    manager = JobManager(lib, poll_interval=0.05)
    try:
        job = start_validation(lib, manager, model.id, worker="box", workers=0, batch=4)
        assert job.worker == "box"
        job = manager.wait(job.id, 300)
        assert job.status == "Completed", job.error
    finally:
        for j in manager.store.list(("Queued", "Starting", "Running")):
            manager.cancel(j.id)
        time.sleep(0.2)
        manager.shutdown()
    (rec,) = list_validations(lib, model.id)
    data = manifest["detect_yolo26n.pt"]["data"]
    assert rec.data == data and rec.job_id == job.id and str(rec.path).startswith(str(lib.home))
    capture = load_capture(rec)
    assert capture["data"] == data and capture["data_root"] == str(Path(data).parent.resolve())
    files = [Path(im["file"]) for im in capture["images"]]
    assert len(files) == 4 and all(f.is_file() and f.is_relative_to(Path(data).parent) for f in files)
    assert lib.check().clean
