"""The longest GUI event-loop stall while Predict opens on a model never used in this process: torch, ultralytics
and the runtime are imported, the model is loaded (and its runtimes timed), and one picture is predicted and painted.

A 5 ms QTimer records the gap between its ticks; a stall is a gap beyond the interval (the goal: none over 50 ms).
The engine runs in a helper process (app/predict/engine_proxy.py): "gui_process_imported" lists what of torch and
the runtimes this process imported all the same (the goal: nothing).
By default the model's page is opened first on its Overview, as a user does, and probed apart (``model_page_*``:
the window's first model page; its lazy tabs wait to be shown, pyqtgraph and superqt come from a start-up thread); the main
figures are then the click on Predict: helper, runtimes, load, one picture predicted and painted. ``--cold-page``
opens the model straight on Predict and probes it all as one.
``--after-warm-up`` opens the model once the window's warm-up imports (app/views/warm_imports.py) are done.
Usage: QT_QPA_PLATFORM=offscreen python bench/predict_stall.py [--export onnx] [--cold-page] [--after-warm-up] [--where]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from common import fixture_checkpoints, save

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class StallProbe:
    """A 5 ms QTimer on the GUI thread; a stall is a gap beyond the interval. ``where``: a watchdog thread prints
    the GUI thread's stack whenever it has not ticked for 50 ms (to find what stalls)."""

    def __init__(self, where: bool = False) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.where, self.running = where, True
        self.main = threading.main_thread().ident
        if where:
            threading.Thread(target=self._watch, daemon=True).start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000 - 5)
        self.last = now

    def _watch(self) -> None:
        reported = 0.0
        while self.running:
            time.sleep(0.01)
            if time.perf_counter() - self.last > 0.05 and self.last != reported:
                reported = self.last
                frames = sys._current_frames()
                names = {t.ident: t.name for t in threading.enumerate()}
                others = "".join(f"  [{names.get(ident, ident)}] " + traceback.format_stack(f)[-1].strip() + "\n"
                                 for ident, f in frames.items() if ident not in (self.main, threading.get_ident()))
                print("---- GUI thread stalled here:\n" + "".join(traceback.format_stack(frames.get(self.main))[-int(os.environ.get("STALL_DEPTH", "8")):])
                      + "-- the other threads (one of them may hold the GIL):\n" + others, flush=True)

    def stop(self) -> dict:
        self.running = False
        self.timer.stop()
        worst = sorted(self.gaps, reverse=True)
        return {"max_stall_ms": round(worst[0], 1) if worst else 0.0, "stalls_over_50ms": sum(g > 50 for g in worst),
                "worst_5_ms": [round(g, 1) for g in worst[:5]]}


def wait(app, until, seconds: float) -> None:  # noqa: ANN001
    end = time.perf_counter() + seconds
    while not until() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", default="", help="also export to this format first (a choice to time)")
    ap.add_argument("--cold-page", action="store_true",
                    help="probe the window's first model page too (by default another model's page is built first)")
    ap.add_argument("--where", action="store_true", help="print the GUI thread's stack at every stall over 50 ms")
    ap.add_argument("--after-warm-up", action="store_true",
                    help="open the model once the window's warm-up imports are done (by default 0.5 s after it shows)")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="yd-pstall-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from app.library.repository import Library
    from app.views.main_window import MainWindow

    app = QApplication([])
    lib = Library(home)
    model = lib.import_checkpoint(fixture_checkpoints() / "detect_yolo26n.pt").model
    if a.export:  # in a child process (the agent): this process still has not imported torch
        from app.jobs.manager import JobManager

        manager = JobManager(lib)
        print(manager.wait(manager.submit_export(model.id, a.export, {"imgsz": 640}).id, 600).status, flush=True)
        manager.shutdown()
    assert "torch" not in sys.modules and "ultralytics" not in sys.modules
    w = MainWindow(lib)
    w.confirm_close = False
    w.resize(1280, 800)
    w.show()
    w.ops.wait_idle()
    wait(app, lambda: False, 0.5)
    if a.after_warm_up:  # app/views/warm_imports.py: pyqtgraph and superqt on a thread, begun just after start-up
        wait(app, lambda: not any(t.name == "warm-imports" for t in threading.enumerate()), 10)
    from remote_agent.export import test_image

    picture = test_image(640)  # made before the probe: the bench's own work, not Predict's
    opened: dict = {}
    if not a.cold_page:  # the model's page first, on its Overview (pyqtgraph, superqt, every tab): not Predict's
        probe = StallProbe(a.where)
        w.open_model(model.id, tab="overview")
        w.ops.wait_idle()  # the window reads on its library thread, then builds the page
        wait(app, lambda: False, 1.0)
        opened = {f"model_page_{k}": v for k, v in probe.stop().items()}

    probe = StallProbe(a.where)  # from here on: Predict on a model never predicted with, the user's click
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    if a.cold_page:
        w.open_model(model.id, tab="predict")
    page = w.model_page
    page.tabs.setCurrentWidget(page.predict)
    tab = page.predict
    wait(app, lambda: tab.readout.text().endswith("ready"), 180)
    marks["ready_s"] = round(time.perf_counter() - t0, 2)
    tab.predict_image(picture, "bench picture")
    wait(app, lambda: tab.view.painted > 0, 180)
    marks["first_paint_s"] = round(time.perf_counter() - t0, 2)
    wait(app, lambda: False, 1.0)  # a second of idle afterwards
    result = {"export": a.export or None, "backend": tab.loaded.name if tab.loaded else None, **marks,
              **probe.stop(), **opened, "cold_page": a.cold_page, "after_warm_up": a.after_warm_up,
              "figures": tab.figures.text(),
              "load": os.getloadavg()[0],
              "gui_process_imported": [m for m in ("torch", "ultralytics", "onnxruntime", "openvino") if m in sys.modules]}
    tab.shutdown()
    w.close()
    print(json.dumps(result, indent=2))
    save("predict_stall" + (f"_{a.export}" if a.export else "") + ("_cold" if a.cold_page else "")
         + ("_warm" if a.after_warm_up else ""), result)


if __name__ == "__main__":
    main()
