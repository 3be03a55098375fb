"""Screenshot of the Predict tab after it timed a model's runtimes (the measured figures under the picture).

Run under Xvfb: xvfb-run -s "-screen 0 1280x800x24" python docs/shoot_predict_timing.py OUT_PNG
(YOLODESK_THEME=dark and QT_SCALE_FACTOR=1.5 for the other variants). A fresh library in a temp folder: the
tests' tiny detect checkpoint, a real ONNX export of it at 320 px, then Predict opened on a picture.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main(out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="yd-shoot-timing-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    from app.jobs.manager import JobManager
    from app.library.repository import Library
    from common import fixture_checkpoints
    from docs.shoot_common import open_window, save_png
    from remote_agent.export import test_image

    lib = Library(home)
    model = lib.import_checkpoint(fixture_checkpoints() / "detect_yolo26n.pt").model
    manager = JobManager(lib)
    manager.wait(manager.submit_export(model.id, "onnx", {"imgsz": 320}).id, 600)
    manager.shutdown()
    session = open_window(lib)
    tab = session.open_predict(model.id, ready=lambda t: t.figures.isVisible())
    tab.conf.setValue(1)
    tab.predict_image(test_image(320), "shapes.png")
    session.until(lambda: tab.view.painted > 0, 60)
    session.pump(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    print("saved", out, save_png(session.window, out), "bytes;", tab.figures.text())
    session.window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
