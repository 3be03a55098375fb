"""Screenshot of the Export tab's Download menu on a format with both an FP32 and an INT8 export.

Run under Xvfb: xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_int8_menu.py OUT_PNG HOME
(YOLODESK_THEME=dark and QT_SCALE_FACTOR=1.5 for the other variants). HOME is prepared as docs/shoot_int8.py
does (real ONNX FP32 and INT8 exports of the tests' tiny detect model; shared with it when given the same HOME).
The picture is the window with the open menu drawn over it (a popup is no part of the window's own grab).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main(out: Path, home: Path) -> None:
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    from app.exporters.registry import FORMATS
    from app.library.repository import Library
    from docs.shoot_common import open_window
    from docs.shoot_int8 import _prepare

    lib = Library(home)
    model_id = _prepare(lib)
    session = open_window(lib)
    window = session.window
    page = window.model_page
    window.open_model(model_id, tab="export")
    session.until(lambda: page.tabs.currentWidget() is page.export, 60)
    tab = page.export
    row = [f.argument for f in FORMATS].index("onnx")
    session.until(lambda: tab.table.item(row, 4) is not None and "INT8" in tab.table.item(row, 4).text(), 60)
    tab.table.selectRow(row)
    session.pump(0.5)
    menu = tab.download_button.menu()
    assert menu is not None, "the ONNX row has no FP32 / INT8 menu"
    button = tab.download_button
    menu.popup(button.mapToGlobal(button.rect().bottomLeft()))
    session.pump(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    from PySide6.QtGui import QPainter

    shot = window.grab()  # the window, then the open menu drawn where it drops from the button
    painter = QPainter(shot)
    painter.drawPixmap(button.mapTo(window, button.rect().bottomLeft()), menu.grab())
    painter.end()
    shot.save(str(out))
    print("saved", out, out.stat().st_size, "bytes")
    menu.close()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
