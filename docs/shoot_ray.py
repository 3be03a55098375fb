"""Screenshots of a Ray worker: the Add worker dialog with Kind = Ray (dashboard port, token, what each job asks
for), a job pending in Ray for a GPU (the Jobs panel and the Train tab), the New Model dialog's cluster devices.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_ray.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import fresh_home, open_window, save_png, shoot_train_with_jobs

    home = fresh_home(no_ssh_config=True)
    from app.jobs.store import JobStore
    from app.jobs.workers import WorkerStore
    from app.library.repository import Library
    from app.views.new_model_dialog import NewModelDialog, worker_devices
    from app.views.workers_page import AddWorkerDialog

    lib = Library(home)
    workers = WorkerStore(lib)
    workers.add("rc", "ray-head.cluster.example", user="me", kind="ray", options={"dashboard_port": 8265, "cpus": 8})
    workers.update("rc", info={"cuda_devices": []})  # tested: the head itself has no GPU
    model = lib.create_pending_model(lib.default_project_id, "yolo26s-parts", task="detect", status="Queued")
    store = JobStore(lib)
    job = store.create("train", {"args": {"epochs": 80}}, lib.default_project_id, model.id, owner_pid=1, worker="rc")
    # what RayTransport writes on the row while Ray keeps the job PENDING (its words, as the real test sees them)
    store.set(job.id, status="Starting", result={"ray": {
        "state": "PENDING", "asks": "1 GPU, 8 CPUs",
        "message": "Job has not started yet. It may be waiting for resources (CPUs, GPUs, memory, custom resources) "
                   "to become available. It may be waiting for the runtime environment to be set up."}})
    session = open_window(lib)
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    dialog = AddWorkerDialog(w)
    dialog.name.setText("rc")
    dialog.host.setText("ray-head.cluster.example")
    dialog.user.setText("me")
    fields = dialog.kind_fields
    fields.kind.setCurrentIndex(fields.kind.findData("ray"))
    fields.ray_token.setText("a-token-from-the-cluster-admin")
    fields.cpus.setValue(8)
    fields.mem.setText("32G")
    dialog.show()
    pump(0.5)
    print("saved", save_png(dialog, out / f"ray_add_worker{suffix}.png"))
    dialog.close()

    shoot_train_with_jobs(session, model.id, out / f"ray_pending{suffix}.png")

    new = NewModelDialog([], [], home / "weights", worker_devices(workers.list()),
                         lib.default_project_id, w)
    new.show()
    new.device.showPopup()
    pump(0.8)
    print("saved", save_png(new.device.view().window(), out / f"ray_devices{suffix}.png"))  # the open list
    new.device.hidePopup()
    new.close()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
