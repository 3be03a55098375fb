"""A newcomer's walk through the window, one picture a stop: the project, a detector's Overview / Predict / Export /
Deploy / Validation tabs, a clone's Validation tab, Datasets, Trash, Workers and Compare — on real checkpoints with
real val jobs run here.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_walk.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
Pictures are ``walk-<stop>{SUFFIX}.png``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import checkpoints, fresh_home, open_window, save_png

    home = fresh_home(no_ssh_config=True)
    from app.library.clone import clone_model
    from app.library.repository import Library
    from app.validation.store import list_validations
    from app.validation.val_job import start_validation

    folder = checkpoints()
    manifest = json.loads((folder / "manifest.json").read_text())
    lib = Library(home)
    names = ("detect_yolo26n.pt", "last_mid.pt", "segment_yolov8n.pt", "classify_yolo11n.pt")
    models = {n: lib.import_checkpoint(folder / n).model for n in names}
    lib.trash_model(models["classify_yolo11n.pt"].id)  # something in the Trash
    session = open_window(lib)
    w = session.window
    for n in ("detect_yolo26n.pt", "last_mid.pt"):
        start_validation(lib, w.jobs, models[n].id, data=manifest[n]["data"], split="val")
    detector = models["detect_yolo26n.pt"]
    session.until(lambda: all(list_validations(lib, models[n].id) for n in ("detect_yolo26n.pt", "last_mid.pt")),
                  300)
    lib.create_project("Field tests")
    clone = clone_model(lib, detector.id, "Field tests")
    out.mkdir(parents=True, exist_ok=True)

    def shot(stop: str) -> None:
        w.ops.wait_idle()
        session.pump(0.8)
        path = out / f"walk-{stop}{suffix}.png"
        print("saved", path, save_png(w, path))

    w.show_project_page()
    shot("project")
    for tab in ("overview", "predict", "export", "deploy", "validation"):
        w.open_model(detector.id, tab)
        w.ops.wait_idle()
        session.pump(1.5)
        shot(tab)
    w.open_model(clone.id, "validation")
    shot("clone-validation")
    for key in ("datasets", "trash", "workers"):
        w.show_page(key)
        shot(key)
    w.show_page("compare").show_models([detector.id, models["last_mid.pt"].id])
    shot("compare")
    w.close()
    lib.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
