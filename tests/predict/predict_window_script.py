"""Run in a fresh interpreter by test_engine_process.py (pytest's own process has torch imported already).

A real window opens Predict on a real checkpoint, predicts a picture and redraws it with a toggle; the predict
helper is killed in the middle of a live run, then the next picture is predicted by a fresh helper; closing the
window stops it. Prints one JSON object with what it saw. Usage: predict_window_script.py HOME CHECKPOINT
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "ultralytics", "onnxruntime", "openvino", "tensorrt")


def main() -> None:
    home, checkpoint = Path(sys.argv[1]), Path(sys.argv[2])
    os.environ["YOLODESK_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    import psutil
    from PySide6.QtWidgets import QApplication

    from app.library.repository import Library
    from app.predict.sources import SyntheticFrames
    from app.views.main_window import MainWindow
    from remote_agent.export import test_image

    app = QApplication([])

    def wait(cond: Callable[[], bool], seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            if cond():
                return True
            time.sleep(0.01)
        return False

    lib = Library(home)
    model = lib.import_checkpoint(checkpoint).model
    w = MainWindow(lib)
    w.confirm_close = False
    w.resize(1000, 700)
    w.show()
    w.open_model(model.id)
    w.ops.wait_idle()
    page = w.model_page
    page.tabs.setCurrentWidget(page.predict)
    tab = page.predict
    seen: dict = {"ready": wait(lambda: tab.readout.text().endswith("ready"), 90)}
    tab.conf.setValue(0)  # 0.001: the untrained fixture's boxes show
    tab.imgsz.setValue(64)
    tab.predict_image(test_image(128), "shapes.png")
    seen["painted"] = wait(lambda: tab.prediction is not None and tab.view.painted > 0, 60)
    seen["detections"] = len(tab.prediction.detections) if tab.prediction else -1
    painted = tab.view.painted
    tab.show_boxes.setChecked(False)  # redrawn by the helper, answered at once
    seen["toggle_redrawn"] = tab.view.painted == painted + 1 and not tab.banner.isVisible()
    seen["heavy_in_gui"] = [m for m in HEAVY if m in sys.modules]
    first = tab.engine.helper_pid()
    seen["helper_is_child"] = first in [c.pid for c in psutil.Process().children()]

    tab.start_frames(SyntheticFrames(size=64, fps=30), "synthetic camera")
    seen["live_frames"] = wait(lambda: tab.engine.frames_done >= 2, 30)
    os.kill(first, signal.SIGKILL)  # mid-way through the live run
    seen["error_shown"] = wait(lambda: tab.banner.isVisible() and "helper" in tab.banner.text(), 15)
    seen["error"] = tab.banner.text()
    seen["live_after_kill"] = tab.engine.live
    before = tab.prediction
    tab.predict_image(test_image(96), "again.png")  # the next request: a fresh helper loads the model again
    seen["recovered"] = wait(lambda: tab.prediction is not before and tab.prediction is not None
                             and tab.prediction.shape == (96, 96), 90)
    second = tab.engine.helper_pid()
    seen["fresh_helper"] = second is not None and second != first

    w.close()  # the window closes: the helper goes with it
    app.processEvents()
    seen["helper_left"] = psutil.pid_exists(second) and psutil.Process(second).status() != psutil.STATUS_ZOMBIE
    seen["children_left"] = [" ".join(c.cmdline())[:120] for c in psutil.Process().children(recursive=True)
                             if "resource_tracker" not in " ".join(c.cmdline())]  # multiprocessing's own
    seen["heavy_in_gui_at_end"] = [m for m in HEAVY if m in sys.modules]
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":  # the helper is spawned: it imports this file again, and must not run it
    main()
