"""Screenshots of one queue across workers: an any-GPU training waiting, the reason per worker on its row.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_placement.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
The waiting job is a library row as the placement writes it (no workers are reached here; tests/cluster places
real jobs on the real Slurm node).
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
    from app.views.validation.validate_dialog import ValidateDialog

    lib = Library(home)
    workers = WorkerStore(lib)
    workers.add("box1", "box1.lab.example", user="me")
    workers.add("hpc", "login.cluster.example", user="me", kind="slurm", options={"partition": "gpu"})
    workers.add("rc", "head.ray.example", user="me", kind="ray")
    model = lib.create_pending_model(lib.default_project_id, "yolo26s-drones", task="detect", status="Queued")
    store = JobStore(lib)
    job = store.create("train", {"args": {"epochs": 100}}, lib.default_project_id, model.id, owner_pid=1,
                       worker="any-gpu:8")
    waiting = "box1: no GPU · hpc: no idle node with gpu gres · rc: 0 of 0 GPUs free"
    store.set(job.id, result={"placement": {"waiting": waiting, "need": 8 * 2**30}})
    session = open_window(lib)
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)

    shoot_train_with_jobs(session, model.id, out / f"placement_waiting{suffix}.png")

    dialog = ValidateDialog(None, ["box1", "hpc", "rc"], w)
    dialog.where.setCurrentIndex(dialog.where.count() - 1)
    dialog.show()
    pump(0.5)
    print("saved", save_png(dialog, out / f"placement_validate{suffix}.png"))
    dialog.close()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
