"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def fixture_checkpoints() -> Path:
    found = sorted((ROOT / "tests" / ".cache").glob("checkpoints-*/manifest.json"))
    if not found:
        sys.exit("no fixture checkpoints: run the test suite once (bash packaging/bootstrap.sh test)")
    return found[-1].parent


def save(name: str, data: object) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2))
    print(f"\nwritten: {OUT / f'{name}.json'}")


def run_until(app, done, timeout: float, every_ms: int = 20, sample=None) -> None:  # noqa: ANN001
    """Run Qt's event loop (blocking between events, as the window's does) until ``done()`` or ``timeout`` s.

    ``done`` and ``sample`` are called every ``every_ms``. A loop of ``processEvents(); sleep(0.002)`` wakes the
    GUI process 500 times a second, which the real window never does, and on a 2-core machine that steals from
    the model being measured.
    """
    import time

    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    end = time.monotonic() + timeout

    def check() -> None:
        if sample is not None:
            sample()
        if done() or time.monotonic() > end:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(every_ms)
    QTimer.singleShot(0, check)
    loop.exec()
    timer.stop()
