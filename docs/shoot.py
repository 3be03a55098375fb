"""Take the README's screenshots of a real session (run under Xvfb: DISPLAY=:99 python docs/shoot.py OUT_DIR).

It drives the real window: opens New Model, writes the demo data set, trains a small model
through the job engine, and grabs the Train tab's charts, console and system meters.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> None:
    import os

    home = Path(os.environ.get("YOLODESK_HOME") or tempfile.mkdtemp(prefix="yd-shoot-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import offline_env

    os.environ.update(offline_env(home))
    from PySide6.QtWidgets import QApplication

    from app.library.repository import Library
    from app.views.theme import apply_theme
    from app.views.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    apply_theme(app)  # as the app starts: Fusion, the light or dark palette (YOLODESK_THEME), the stylesheet
    lib = Library(home)
    w = MainWindow(lib)
    w.confirm_close = False
    w.resize(1280, 800)
    w.show()
    out.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str, widget=None) -> None:  # noqa: ANN001
        pump(0.4)
        (widget or w).grab().save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png")

    pump(1)
    w.open_new_model_dialog()
    dialog = w._dialog
    dialog.family.setCurrentText("YOLO11")
    dialog.demo.click()
    end = time.monotonic() + 30
    while not dialog.data.currentText() and time.monotonic() < end:
        pump(0.2)
    dialog.epochs.setValue(int(os.environ.get("SHOOT_EPOCHS", "40")))
    dialog.batch.setValue(16)
    dialog.name.setText("shapes-yolo11n")
    dialog.workers.setValue(0)
    pump(3)
    shot("new_model", dialog)
    dialog.start.click()
    end = time.monotonic() + 20
    while w.current_model_id is None and time.monotonic() < end:
        pump(0.2)
    train = w.model_page.train
    end = time.monotonic() + 900
    while time.monotonic() < end:
        pump(0.5)
        if train.job is not None and train.job.finished:
            break
        if train.last_epoch >= int(os.environ.get("SHOOT_AT_EPOCH", "12")) and not (out / "train_console.png").exists():
            train.inner.setCurrentIndex(1)
            shot("train_console")
            train.inner.setCurrentIndex(2)
            shot("train_system")
            train.inner.setCurrentIndex(0)
    pump(2)
    shot("train_charts")
    w.model_page.tabs.setCurrentIndex(0)
    shot("trained_overview")
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
