"""The longest GUI event-loop stall while Predict opens on a model never used in this process: torch, ultralytics
and the runtime are imported, the model is loaded (and its runtimes timed), and one picture is predicted and painted.

A 5 ms QTimer records the gap between its ticks; a stall is a gap beyond the interval (the goal: none over 50 ms).
Usage: QT_QPA_PLATFORM=offscreen python bench/predict_stall.py [--export onnx]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import fixture_checkpoints, save

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", default="", help="also export to this format first (a choice to time)")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="yd-pstall-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from PySide6.QtCore import QElapsedTimer, QTimer
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
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)

    clock = QElapsedTimer()
    clock.start()
    gaps: list[tuple[float, float]] = []  # (at ms, gap ms)
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now / 1e6, (now - last[0]) / 1e6))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    w.open_model(model.id, tab="predict")
    page = w.model_page
    page.tabs.setCurrentWidget(page.predict)
    tab = page.predict
    end = t0 + 180
    while not tab.readout.text().endswith("ready") and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    marks["ready_s"] = round(time.perf_counter() - t0, 2)
    from remote_agent.export import test_image

    tab.predict_image(test_image(640), "bench picture")
    while tab.view.painted == 0 and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    marks["first_paint_s"] = round(time.perf_counter() - t0, 2)
    for _ in range(100):  # a second of idle afterwards
        app.processEvents()
        time.sleep(0.01)
    timer.stop()
    stalls = sorted(((g - 5, at) for at, g in gaps), reverse=True)
    result = {"export": a.export or None, "backend": tab.loaded.name if tab.loaded else None, **marks,
              "max_stall_ms": round(stalls[0][0], 1), "stalls_over_50ms": sum(s > 50 for s, _ in stalls),
              "worst_5_ms": [round(s, 1) for s, _ in stalls[:5]], "figures": tab.figures.text(),
              "load": os.getloadavg()[0]}
    tab.shutdown()
    w.close()
    print(json.dumps(result, indent=2))
    save("predict_stall" + (f"_{a.export}" if a.export else ""), result)


if __name__ == "__main__":
    main()
