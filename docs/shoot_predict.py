"""Screenshots of the Predict tab (run under Xvfb: DISPLAY=:99 python docs/shoot_predict.py OUT IMAGE [MODEL…]).

Uses the library at $YOLODESK_HOME (e.g. after `yolodesk demo-data` and `yolodesk train`), opens each
named model's Predict tab on IMAGE and grabs the window.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, image: Path, models: list[str]) -> None:
    from app.predict.sources import load_image
    from docs.shoot_common import open_default

    lib, session = open_default()
    w, pump = session.window, session.pump
    out.mkdir(parents=True, exist_ok=True)

    pump(1)
    for ref in models:
        m, tab = session.open_tab(lib, ref, "predict")
        session.until(lambda t=tab: t.readout.text().endswith("ready"))
        tab.conf.setValue(int(os.environ.get("SHOOT_CONF", "40")))
        if os.environ.get("SHOOT_IMGSZ"):
            tab.imgsz.setValue(int(os.environ["SHOOT_IMGSZ"]))
        tab.predict_image(load_image(image), image.name)
        session.until(lambda t=tab: t.prediction is not None, 30)
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
