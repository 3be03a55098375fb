"""Screenshots of the small fixes a newcomer asked for: the Validate dialog without an empty error bar (and with a
message), a long wait reason shown whole under the Train tab's head, the Predict tab while its helper starts.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_newcomer.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
The waiting job is a library row as the any-GPU placer writes it (no worker needed); the model is the tests' tiny
detect checkpoint (trained at 64 px).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REASON = ("box: no GPU; hpc: every node busy (Slurm: Resources); lab-2: GPU 0 has 3.1 GiB free of 24 GiB, "
          "GPU 1 has 2.0 GiB free of 24 GiB")


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import checkpoints, fresh_home, open_window, save_png

    home = fresh_home(no_ssh_config=True)
    from app.jobs.store import JobStore
    from app.library.repository import Library
    from app.views.validation.validate_dialog import ValidateDialog

    lib = Library(home)
    waiting = lib.create_pending_model(lib.default_project_id, "yolo26n-waiting", task="detect", status="Queued")
    store = JobStore(lib)
    job = store.create("train", {"args": {"epochs": 50}}, lib.default_project_id, waiting.id, owner_pid=1,
                       worker="any-gpu:8")
    store.set(job.id, result={"placement": {"waiting": REASON, "need": 8 * 2**30}})
    detect = lib.import_checkpoint(checkpoints() / "detect_yolo26n.pt").model
    session = open_window(lib)
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)
    pump(1)

    dialog = ValidateDialog(None, ["box"], w)
    dialog.show()
    pump(0.5)
    print("saved", save_png(dialog, out / f"validate_dialog{suffix}.png"))
    dialog._on_buttons_accepted()  # no data.yaml picked: the reason shows under the form
    pump(0.3)
    print("saved", save_png(dialog, out / f"validate_dialog_problem{suffix}.png"))
    dialog.close()

    w.open_model(waiting.id)
    session.until(lambda: w.current_model_id == waiting.id, 20)
    w.model_page.tabs.setCurrentWidget(w.model_page.train)
    pump(1)
    w.ops.wait_idle()
    pump(0.5)
    print("saved", save_png(w, out / f"train_wait_reason{suffix}.png"))

    w.open_model(detect.id)
    session.until(lambda: w.current_model_id == detect.id, 20)
    tab = w.model_page.predict
    w.model_page.tabs.setCurrentWidget(tab)
    session.until(lambda: tab.backend.currentText().startswith("starting"), 20)
    pump(0.3)
    print("saved", save_png(w, out / f"predict_starting_helper{suffix}.png"))
    session.until(lambda: tab.readout.text().endswith("ready"), 120)
    pump(0.5)
    print("saved", save_png(w, out / f"predict_no_camera{suffix}.png"))
    w.close()


if __name__ == "__main__":  # the predict helper is spawned: it imports this file again, and must not run it
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
