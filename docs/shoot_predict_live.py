"""Screenshot of the Predict tab during a live run: FPS, how old the painted frame is, the stage times.

Run under Xvfb: xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_predict_live.py OUT_PNG
(YOLODESK_THEME=dark and QT_SCALE_FACTOR=1.5 for the other variants). A fresh library in a temp folder: the
tests' tiny detect checkpoint, a synthetic camera twice as fast as the model, shot after a few seconds.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="yd-shoot-live-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    from app.library.repository import Library
    from app.predict.sources import SyntheticFrames
    from docs.shoot_common import checkpoints, open_window, save_png

    lib = Library(home)
    model = lib.import_checkpoint(checkpoints() / "detect_yolo26n.pt").model
    session = open_window(lib)
    tab = session.open_predict(model.id)
    tab.conf.setValue(1)
    tab.imgsz.setValue(320)
    tab.start_frames(SyntheticFrames(size=480, fps=60), "synthetic camera")
    session.until(lambda: "ms from capture" in tab.readout.text(), 60)
    session.pump(3)
    out.parent.mkdir(parents=True, exist_ok=True)
    print("saved", out, save_png(session.window, out), "bytes;", tab.readout.text())
    tab.stop_live()
    session.window.close()


if __name__ == "__main__":  # the predict helper is spawned: it imports this file again, and must not run it
    main(Path(sys.argv[1]))
