"""Screenshots of the trash: the Trash page (three trashed models, one selected) and the project page right after
Move to trash (the status bar's "Moved “X” to the trash — Undo", the Visibility column and filter), and a public
model's page with its Private / Public badge.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_trash.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import checkpoints, fresh_home, open_window, save_png

    home = fresh_home()
    from PySide6.QtWidgets import QMessageBox

    from app.library.orm import Model, utcnow
    from app.library.repository import Library

    folder = checkpoints()
    lib = Library(home)
    drones = lib.create_project("Drones")
    kept = [lib.import_checkpoint(folder / n).model for n in ("detect_yolo26n.pt", "classify_yolo11n.pt")]
    gone = [lib.import_checkpoint(folder / n, pid).model for n, pid in (
        ("segment_yolov8n.pt", None), ("pose_yolo11n.pt", drones.id), ("obb_yolo26n.pt", None))]
    for m, days in zip(gone, (2, 11, 27), strict=True):
        lib.trash_model(m.id)
        with lib.write() as s:
            s.get(Model, m.id).deleted_at = utcnow() - timedelta(days=days, hours=3)
    lib.set_visibility(kept[0].id, "public")
    session = open_window(lib)
    pump, w = session.pump, session.window
    out.mkdir(parents=True, exist_ok=True)
    pump(1)
    w.ops.wait_idle()

    page = w.show_page("trash")
    w.ops.wait_idle()
    pump(0.5)
    page.table.selectRow(1)
    pump(0.3)
    print("saved", out / f"trash{suffix}.png", save_png(w, out / f"trash{suffix}.png"))

    QMessageBox.question = lambda *a, **k: QMessageBox.StandardButton.Yes  # the confirmation, answered
    w.show_project_page()
    w.ops.wait_idle()
    w.model_actions.trash(next(m for m in lib.models() if m.id == kept[1].id))
    w.ops.wait_idle()
    pump(0.5)
    print("saved", out / f"trash_undo{suffix}.png", save_png(w, out / f"trash_undo{suffix}.png"))

    w.open_model(kept[0].id)  # the public one: its badge in the model page's header
    w.ops.wait_idle()
    pump(1)
    print("saved", out / f"visibility{suffix}.png", save_png(w, out / f"visibility{suffix}.png"))
    w.close()
    lib.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
