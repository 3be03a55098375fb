"""Every page of the window in one real session (run under Xvfb: DISPLAY=:99 python docs/shoot_pages.py OUT CKPTS).

CKPTS is a folder of real checkpoints (tests/.cache/checkpoints-*: the test fixtures). The window is
1280×800 logical pixels; the names get SHOOT_SUFFIX (``_150`` under QT_SCALE_FACTOR=1.5, ``_dark``
with YOLODESK_THEME=dark). It imports the checkpoints, trains a 2-epoch model on the demo data
through the job engine, predicts on a picture, and grabs project, overview, train, export,
predict, the Jobs panel, the Add worker dialog and a worker (a real sshd on 127.0.0.1).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, checkpoints: Path) -> None:
    from docs.shoot_common import fresh_home, open_window, save_png

    home = fresh_home(no_ssh_config=True)
    from PySide6.QtWidgets import QMessageBox

    from app.library.repository import Library
    from app.views.workers_page import AddWorkerDialog
    from remote_agent.export import test_image
    from tests.remote.sshd import start_sshd

    suffix = os.environ.get("SHOOT_SUFFIX", "")
    sshd = start_sshd(home / "sshd")  # a real OpenSSH server on 127.0.0.1, as the remote tests start it
    lib = Library(home)
    models = {name: lib.import_checkpoint(checkpoints / f"{name}.pt").model
              for name in ("detect_yolo26n", "segment_yolov8n", "classify_yolo11n", "pose_yolo11n")}
    session = open_window(lib)
    app, w, pump, until = session.app, session.window, session.pump, session.until
    out.mkdir(parents=True, exist_ok=True)

    def shot(name: str, widget=None) -> None:  # noqa: ANN001
        pump(0.6)
        path = out / f"{name}{suffix}.png"
        print("saved", path, save_png(widget or w, path), "bytes", flush=True)

    pump(1.5)
    w.ops.wait_idle()
    shot("project")
    w.open_model(models["detect_yolo26n"].id)
    w.ops.wait_idle()
    shot("overview")
    page = w.model_page
    page.tabs.setCurrentWidget(page.export)
    shot("export")
    page.tabs.setCurrentWidget(page.predict)
    until(lambda: page.predict.readout.text().endswith("ready"), 60)
    page.predict.predict_image(test_image(256), "shapes.png")
    until(lambda: page.predict.prediction is not None, 60)
    shot("predict")

    w.open_new_model_dialog()
    dialog = w._dialog
    dialog.family.setCurrentText("YOLO11")
    dialog.demo.click()
    until(lambda: bool(dialog.data.currentText()), 30)
    dialog.epochs.setValue(2)
    dialog.batch.setValue(8)
    dialog.imgsz.setValue(64)
    dialog.workers.setValue(0)
    dialog.name.setText("shapes-yolo11n")
    shot("new_model", dialog)
    dialog.start.click()
    until(lambda: w.current_model_id is not None, 20)
    train = w.model_page.train
    until(lambda: train.job is not None and train.job.finished, 600)
    pump(2)
    shot("train_charts")
    train.inner.setCurrentIndex(1)
    shot("train_console")
    train.inner.setCurrentIndex(2)
    shot("train_system")
    train.inner.setCurrentIndex(0)
    if hasattr(w, "show_jobs_panel"):  # the Jobs panel (issue 13), docked under the page
        w.show_jobs_panel()
        pump(1.5)
        shot("jobs")
        w.jobs_panel.hide()

    w.show_workers_page()
    w.ops.wait_idle()
    workers = w.workers_page
    workers.add_button.click()
    add = workers.findChild(AddWorkerDialog)
    add.name.setText("gpu-box")
    add.host.setText("127.0.0.1")
    add.port.setValue(sshd.port)
    add.user.setText("root")
    add.key.setText(str(sshd.client_key))
    add.python.setText(sys.executable)
    add._on_host_editing_finished()
    shot("worker_add", add)
    add._on_buttons_accepted()

    def prompt() -> QMessageBox | None:
        return next((x for x in app.topLevelWidgets() if isinstance(x, QMessageBox) and x.isVisible()), None)

    until(lambda: prompt() is not None, 60)
    next(b for b in prompt().buttons() if b.text() == "Trust and connect").click()
    until(lambda: "gpu-box" in workers.cards and workers.cards["gpu-box"].state.text() == "Ready", 120)
    shot("workers")
    w.close()
    sshd.stop()
    app.processEvents()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
