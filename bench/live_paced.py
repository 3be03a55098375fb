"""The Predict tab's live loop through the helper, live pictures paced by the tab's painting vs unpaced (every
result drawn and sent, as before), rounds alternating, each against the bare backend measured just before it.

Also the CPU ms a frame of the helper process and of this (GUI) process: figures the machine's other load skews
less than FPS. Usage: nice -n -20 python bench/live_paced.py [--live-seconds 8] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import fixture_checkpoints, run_until
from predict_speed import throughput


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by process ``pid`` and by this process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    mine = os.times()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), mine.user + mine.system


def main() -> None:
    """Export OpenVINO 640, open the tab, run alternating unpaced / paced live rounds, print each and the medians."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--live-seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=4, help="rounds of each kind")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="yd-bench-paced-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from app.exporters.store import ExportStore
    from app.jobs.manager import JobManager
    from app.library.repository import Library
    from app.predict.session import PredictSession, backend_choices
    from app.predict.sources import ReplayFrames
    from app.views.predict_tab import PredictTab
    from remote_agent.export import test_image

    lib = Library(home)
    model = lib.import_checkpoint(fixture_checkpoints() / "detect_yolo26n.pt").model
    manager = JobManager(lib)
    print("export", manager.wait(manager.submit_export(model.id, "openvino", {"imgsz": 640}).id, 600).status)
    manager.shutdown()
    choices = backend_choices(model.weights_path, ExportStore(lib).for_model(model.id), cuda=False)
    backend = next(c for c in choices if c.format == "openvino")
    rng = np.random.default_rng(0)
    frames = [np.clip(test_image(640).astype(int) + rng.integers(-8, 8, (640, 640, 3)), 0, 255).astype(np.uint8)
              for _ in range(40)]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    bare = PredictSession(backend, "detect")
    tab = PredictTab()
    tab.resize(1200, 800)
    tab.show()
    tab.model = lib.model(model.id)
    tab.set_backends([backend])
    run_until(app, lambda: tab.readout.text().endswith("ready"), 120)
    rounds: dict[bool, list[dict]] = {True: [], False: []}
    for i in range(a.rounds * 2):
        paced = i % 2 == 1  # unpaced first, then paced, alternating
        tab.engine.paced = paced  # read at each start_live
        load = os.getloadavg()[0]
        bare_fps = throughput(bare, frames, 640, a.live_seconds)
        source = ReplayFrames(frames, fps=bare_fps * 2, seconds=a.live_seconds)
        painted0, done0 = tab.view.painted, tab.engine.frames_done
        helper = tab.engine.helper_pid()
        cpu0 = cpu_seconds(helper)
        tab.start_frames(source, "bench frames")
        t0 = time.monotonic()
        run_until(app, lambda: not tab.engine.live, a.live_seconds + 5)
        done = max(tab.engine.frames_done - done0, 1)
        live_fps = done / (time.monotonic() - t0)
        cpu1 = cpu_seconds(helper)
        run_until(app, lambda: False, 1.0)  # the run's "ended" is delivered now, not into the next round
        r = {"paced": paced, "bare_fps": round(bare_fps, 2), "live_fps": round(live_fps, 2),
             "ratio": round(live_fps / bare_fps, 3), "predicted": done, "painted": tab.view.painted - painted0,
             "helper_cpu_ms": round((cpu1[0] - cpu0[0]) * 1000 / done, 1),
             "gui_cpu_ms": round((cpu1[1] - cpu0[1]) * 1000 / done, 1), "load": round(load, 2)}
        rounds[paced].append(r)
        print(r, flush=True)
    tab.shutdown()
    for paced in (False, True):
        rs = rounds[paced]
        print(f"{'paced' if paced else 'unpaced'}: {statistics.median(r['ratio'] for r in rs)}× bare, "
              f"{statistics.median(r['live_fps'] for r in rs):.1f} FPS, "
              f"{statistics.median(r['painted'] for r in rs) / a.live_seconds:.1f} painted/s, CPU ms a frame: helper "
              f"{statistics.median(r['helper_cpu_ms'] for r in rs)}, GUI {statistics.median(r['gui_cpu_ms'] for r in rs)}")


if __name__ == "__main__":  # the helper is spawned: it imports this file again and must not run the bench
    main()
