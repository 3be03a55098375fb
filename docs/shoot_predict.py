"""Screenshots of the Predict tab (run under Xvfb: DISPLAY=:99 python docs/shoot_predict.py OUT IMAGE [MODEL…]).

Uses the library at $YOLODESK_HOME (e.g. after `yolodesk demo-data` and `yolodesk train`), opens each
named model's Predict tab on IMAGE and grabs the window.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, image: Path, models: list[str]) -> None:
    from app.offline import apply_offline

    apply_offline()
    from PySide6.QtWidgets import QApplication

    from app.library.repository import Library
    from app.paths import resources_dir
    from app.predict.sources import load_image
    from app.views.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setStyleSheet((resources_dir() / "styles" / "app.qss").read_text())
    lib = Library.open_default()
    w = MainWindow(lib)
    w.confirm_close = False
    w.resize(1400, 880)
    w.show()
    out.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    pump(1)
    for ref in models:
        m = lib.find_model(ref)
        w.open_model(m.id)
        tab = w.model_page.predict
        w.model_page.tabs.setCurrentWidget(tab)
        end = time.monotonic() + 60
        while not tab.readout.text().endswith("ready") and time.monotonic() < end:
            pump(0.2)
        tab.conf.setValue(int(os.environ.get("SHOOT_CONF", "40")))
        if os.environ.get("SHOOT_IMGSZ"):
            tab.imgsz.setValue(int(os.environ["SHOOT_IMGSZ"]))
        tab.predict_image(load_image(image), image.name)
        end = time.monotonic() + 30
        while tab.prediction is None and time.monotonic() < end:
            pump(0.2)
        pump(1)
        if tab.table.rowCount():
            tab.table.selectRow(0)
        pump(0.5)
        path = out / f"predict_{m.task}.png"
        w.grab().save(str(path))
        print("saved", path)
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
