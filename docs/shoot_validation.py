"""Screenshots of validation: a detector's Validation tab (matrix, a clicked cell's images, curves), a classifier's
(nc×nc matrix, per-class table, no curves), and Compare of two detectors — all from real val jobs run here.

Run under Xvfb: ``xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_validation.py OUT [SUFFIX]``; set
``QT_SCALE_FACTOR=1.5`` or ``YOLODESK_THEME=dark`` for the other variants (SUFFIX names them: ``_150``, ``_dark``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, suffix: str = "") -> None:
    from docs.shoot_common import checkpoints, fresh_home, open_window, save_png

    home = fresh_home()
    from app.library.repository import Library
    from app.validation.store import list_validations
    from app.validation.val_job import start_validation

    folder = checkpoints()
    manifest = json.loads((folder / "manifest.json").read_text())
    lib = Library(home)
    names = ("detect_yolo26n.pt", "last_mid.pt", "classify_yolo11n.pt")
    models = {n: lib.import_checkpoint(folder / n).model for n in names}
    session = open_window(lib)
    pump, w = session.pump, session.window
    for n in names:
        start_validation(lib, w.jobs, models[n].id, data=manifest[n]["data"], split="val")
    session.until(lambda: all(list_validations(lib, m.id) for m in models.values()), 300)
    out.mkdir(parents=True, exist_ok=True)

    w.open_model(models["detect_yolo26n.pt"].id, "validation")
    w.ops.wait_idle()
    tab = w.model_page.validation
    session.until(lambda: tab.stack.currentWidget() is tab.view, 30)
    panel = tab.view.matrix
    nc = len(panel.heatmap.names) - 1
    panel.heatmap.cellClicked.emit(nc, 0)  # the missed truths of the first class: their thumbnails
    session.until(lambda: not panel.thumbs.loading, 20)
    pump(0.5)
    print("saved", out / f"validation-detect{suffix}.png", save_png(w, out / f"validation-detect{suffix}.png"))

    w.open_model(models["classify_yolo11n.pt"].id, "validation")
    w.ops.wait_idle()
    session.until(lambda: tab.stack.currentWidget() is tab.view and tab.view.capture.get("task") == "classify", 30)
    pump(0.5)
    print("saved", out / f"validation-classify{suffix}.png", save_png(w, out / f"validation-classify{suffix}.png"))

    w.show_project_page()
    w.ops.wait_idle()
    page = w.project_page
    from PySide6.QtCore import QItemSelectionModel

    from app.qt.model_table import RECORD_ROLE

    wanted = {models["detect_yolo26n.pt"].id, models["last_mid.pt"].id}
    for row in range(page.proxy.rowCount()):
        index = page.proxy.index(row, 0)
        if page.proxy.data(index, RECORD_ROLE).id in wanted:
            page.table.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select
                                               | QItemSelectionModel.SelectionFlag.Rows)
    pump(0.3)
    print("saved", out / f"compare-select{suffix}.png", save_png(w, out / f"compare-select{suffix}.png"))
    page.compare.button.click()
    w.ops.wait_idle()
    pump(1)
    print("saved", out / f"compare{suffix}.png", save_png(w, out / f"compare{suffix}.png"))
    w.close()
    lib.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots",
         sys.argv[2] if len(sys.argv) > 2 else "")
