"""Screenshots of the Workers page and a remote export (run under Xvfb: DISPLAY=:99 python docs/shoot_workers.py OUT).

It starts a real sshd on 127.0.0.1 (as the tests do), adds it as a worker through the Add
worker dialog, grabs the trust prompt, trusts it, and exports a model to ONNX on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, checkpoint: Path) -> None:
    from docs.shoot_common import fresh_home, open_window

    home = fresh_home(no_ssh_config=True)
    from PySide6.QtWidgets import QMessageBox

    from app.library.repository import Library
    from app.views.workers_page import AddWorkerDialog
    from tests.remote.sshd import start_sshd

    sshd = start_sshd(home / "sshd")
    lib = Library(home)
    model = lib.import_checkpoint(checkpoint).model
    session = open_window(lib)
    app, w, pump, until = session.app, session.window, session.pump, session.until
    out.mkdir(parents=True, exist_ok=True)

    def shot(name: str, widget=None) -> None:  # noqa: ANN001
        pump(0.4)
        (widget or w).grab().save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png")

    pump(1)
    w.show_workers_page()
    page = w.workers_page
    page.add_button.click()
    dialog = page.findChild(AddWorkerDialog)
    dialog.name.setText("gpu-box")
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(sshd.port)
    dialog.user.setText("root")
    dialog.key.setText(str(sshd.client_key))
    dialog.python.setText(sys.executable)
    dialog._on_host_editing_finished()
    shot("worker_add", dialog)
    dialog._on_buttons_accepted()

    def prompt() -> QMessageBox | None:
        return next((x for x in app.topLevelWidgets() if isinstance(x, QMessageBox) and x.isVisible()), None)

    until(lambda: prompt() is not None)
    p = prompt()
    shot("worker_trust", p)
    next(b for b in p.buttons() if b.text() == "Trust and connect").click()
    until(lambda: page.cards["gpu-box"].state.text() == "Ready")
    lib_workers = page.store
    lib_workers.add("old-box", "127.0.0.1", sshd.port, "root", str(sshd.client_key), python="/usr/bin/python3")
    page.refresh()
    page.test("old-box")
    until(lambda: page.cards["old-box"].state.text() == "Needs attention")
    shot("workers")

    w.open_model(model.id)
    tab = w.model_page.export
    w.model_page.tabs.setCurrentWidget(tab)
    tab.table.selectRow([f.argument for f in __import__("app.exporters.registry", fromlist=["FORMATS"]).FORMATS]
                        .index("onnx"))
    tab.run_on.setCurrentIndex(1)
    tab.form.editors["imgsz"].setValue(64)
    tab.export_button.click()
    until(lambda: tab.exports.get("onnx") is not None and tab.exports["onnx"].status == "Completed", 120)
    pump(1)
    shot("export_on_worker")
    w.close()
    sshd.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
