"""Screenshots of Slurm workers: the Add worker dialog with Kind = Slurm, and a job Slurm keeps pending, saying why.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_slurm.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
The pending job is a library row as the Slurm transport writes it while the job waits (no cluster needed here;
tests/cluster runs the real one).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import fresh_home, open_window, save_png, shoot_train_with_jobs

    home = fresh_home(no_ssh_config=True)
    from app.jobs.slurm_batch import SlurmState
    from app.jobs.store import JobStore
    from app.jobs.workers import WorkerStore
    from app.library.repository import Library
    from app.views.workers_page import AddWorkerDialog

    lib = Library(home)
    WorkerStore(lib).add("hpc", "login.cluster.example", user="me", kind="slurm",
                         options={"partition": "gpu", "gres": "gpu:1", "time": "04:00:00"})
    model = lib.create_pending_model(lib.default_project_id, "yolo26n-drones", task="detect", status="Queued")
    store = JobStore(lib)
    job = store.create("train", {"args": {"epochs": 50}}, lib.default_project_id, model.id, owner_pid=1, worker="hpc")
    store.set(job.id, status="Starting", result={"slurm": SlurmState("18342", "PENDING", "Resources").to_json()})
    session = open_window(lib)
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)

    dialog = AddWorkerDialog(w)
    dialog.name.setText("hpc")
    dialog.host.setText("login.cluster.example")
    dialog.user.setText("me")
    fields = dialog.kind_fields
    fields.kind.setCurrentIndex(fields.kind.findData("slurm"))
    fields.partition.setText("gpu")
    fields.gres.setText("gpu:1")
    fields.time.setText("04:00:00")
    fields.cpus.setValue(8)
    fields.env.setText("SLURM_CONF=/etc/slurm/slurm.conf")
    dialog.show()
    pump(0.5)
    print("saved", save_png(dialog, out / f"slurm_add_worker{suffix}.png"))
    dialog.close()

    shoot_train_with_jobs(session, model.id, out / f"slurm_pending{suffix}.png")
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
