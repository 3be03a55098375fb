"""Screenshot of the Predict tab after its helper process died: the picture stays, the banner says what happened.

Run under Xvfb: xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_predict_helper.py OUT_PNG
(YOLODESK_THEME=dark and QT_SCALE_FACTOR=1.5 for the other variants). A fresh library in a temp folder: the
tests' tiny detect checkpoint, Predict on a picture, then the helper process killed as the OOM killer would.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="yd-shoot-helper-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    from app.library.repository import Library
    from docs.shoot_common import checkpoints, open_window, save_png
    from remote_agent.export import test_image

    lib = Library(home)
    model = lib.import_checkpoint(checkpoints() / "detect_yolo26n.pt").model
    session = open_window(lib)
    tab = session.open_predict(model.id)
    tab.conf.setValue(1)
    tab.imgsz.setValue(320)
    tab.predict_image(test_image(320), "shapes.png")
    session.until(lambda: tab.view.painted > 0, 60)
    os.kill(tab.engine.helper_pid(), signal.SIGKILL)
    session.until(tab.banner.isVisible, 30)
    session.pump(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    print("saved", out, save_png(session.window, out), "bytes;", tab.banner.text())
    session.window.close()


if __name__ == "__main__":  # the predict helper is spawned: it imports this file again, and must not run it
    main(Path(sys.argv[1]))
