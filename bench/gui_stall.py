"""The longest GUI event-loop stall while a real training runs in the Train tab, its console receives
1,000 lines a second (log events appended to the job's events file, as a chatty agent would write them),
and another process (`yolodesk import`) adds 50 checkpoints that the window notices and lists by itself.

A 5 ms QTimer records the gap between its ticks; a stall is a gap beyond the interval.
Usage: QT_QPA_PLATFORM=offscreen python bench/gui_stall.py [--seconds 20] [--rate 1000] [--imports 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, fixture_checkpoints, save

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--imports", type=int, default=50, help="checkpoints another process imports meanwhile")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="yd-stall-"))
    os.environ["YOLODESK_HOME"] = str(home)
    variants = make_variants(home / "variants", a.imports) if a.imports else None
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.demo_data import write_dataset
    from app.jobs.spec import TrainRequest
    from app.library.repository import Library
    from app.views.main_window import MainWindow

    app = QApplication([])
    lib = Library(home)
    w = MainWindow(lib)
    w.confirm_close = False
    w.show()
    data = write_dataset(home / "data", "detect", n_train=64, n_val=8, size=128)
    job = w.jobs.submit_train(TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=200, imgsz=128,
                                           batch=8, extra={"workers": 0, "plots": False}))
    w.open_model(job.model_id, tab="train")
    w.ops.wait_idle()  # the model is read on the window's library thread
    w.model_page.train.inner.setCurrentIndex(1)  # the console is on screen

    while not job.events_path.exists() or b'"epoch"' not in job.events_path.read_bytes():
        app.processEvents()
        time.sleep(0.01)

    stop = threading.Event()
    sent = [0]

    def flood() -> None:
        interval = 1.0 / a.rate
        nxt = time.perf_counter()
        with open(job.events_path, "a", buffering=1) as f:
            while not stop.is_set():
                line = json.dumps({"type": "log", "job": job.id, "t": time.time(),
                                   "text": f"\x1b[34mflood\x1b[0m line {sent[0]} " + "x" * 60 + "\n"})
                f.write(line + "\n")
                sent[0] += 1
                nxt += interval
                delay = nxt - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    t = threading.Thread(target=flood, daemon=True)
    t.start()
    importer = None
    if variants is not None:  # another process, as a `yolodesk import` in a terminal would be
        importer = subprocess.Popen([sys.executable, "-m", "app", "import", str(variants)], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    end = t0 + a.seconds
    shown_after = None
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)
        if importer is not None and shown_after is None and importer.poll() is not None:
            if sum(r.name.startswith("bench-") for r in w.project_page.table_model.records()) == a.imports:
                shown_after = round(time.monotonic() - t0, 2)
    stop.set()
    t.join()
    import_rc = importer.wait(120) if importer is not None else None
    epochs = w.model_page.train.last_epoch
    w.jobs.cancel(job.id)
    w.jobs.wait(job.id, 60)
    w.close()
    stalls = [g - 5 for g in gaps]
    result = {"seconds": a.seconds, "lines_sent": sent[0], "lines_per_s": round(sent[0] / a.seconds),
              "max_stall_ms": round(max(stalls), 1), "p99_stall_ms": round(sorted(stalls)[int(len(stalls) * 0.99)], 1),
              "median_gap_ms": round(statistics.median(gaps), 2), "epochs_during_run": epochs,
              "console_blocks": w.model_page.train.console.document().blockCount(),
              "imports_by_another_process": a.imports, "import_exit_code": import_rc,
              "all_imports_listed_after_s": shown_after}
    print(json.dumps(result, indent=2))
    save("gui_stall", result)


def make_variants(folder: Path, n: int) -> Path:
    """``n`` distinct, valid checkpoints (one fixture re-saved with a different date), made in a child process."""
    src = fixture_checkpoints() / "detect_yolo26n.pt"
    code = ("import sys, torch\n"
            "ck = torch.load(sys.argv[1], weights_only=False)\n"
            "for i in range(int(sys.argv[3])):\n"
            "    ck['date'] = f'bench-{i}'\n"
            "    torch.save(ck, f'{sys.argv[2]}/bench-{i:02d}.pt')\n")
    folder.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", code, str(src), str(folder), str(n)], check=True, cwd=ROOT)
    return folder


if __name__ == "__main__":
    main()
