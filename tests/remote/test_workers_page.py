"""The Workers page and remote exports from the Export tab, clicked through against a real sshd."""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from app.exporters.registry import FORMATS

ROW = {f.argument: i for i, f in enumerate(FORMATS)}
USER = "root" if os.geteuid() == 0 else os.environ.get("USER")


def _trust_prompt() -> QMessageBox | None:
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox) and w.objectName() == "trustPrompt" and w.isVisible():
            return w
    return None


def test_add_a_worker_trust_its_key_and_see_what_it_has(qtbot, job_window, sshd):
    window = job_window
    window.sidebar.workers_button.click()
    page = window.workers_page
    assert window.stack.currentWidget() is page and page.empty.isVisible()
    assert page.empty.objectName() == "emptyState" and "Add worker…" in page.empty.text()  # the centred box

    page.add_button.click()
    from app.views.workers_page import AddWorkerDialog

    dialog = page.findChild(AddWorkerDialog)
    dialog.name.setText("box")
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(sshd.port)
    dialog.user.setText(USER)
    dialog.key.setText(str(sshd.client_key))
    dialog.python.setText(sys.executable)
    dialog._on_buttons_accepted()
    qtbot.waitUntil(lambda: _trust_prompt() is not None, timeout=20000)
    prompt = _trust_prompt()
    assert sshd.fingerprint() in prompt.text()  # the SHA-256 fingerprint, as ssh-keygen -lf prints it
    trust = next(b for b in prompt.buttons() if b.text() == "Trust and connect")
    trust.click()
    card = page.cards["box"]
    qtbot.waitUntil(lambda: card.state.text() == "Ready", timeout=60000)
    assert "ultralytics" in card.facts.text() and "CPUs" in card.facts.text()
    assert "tensorrt is not installed" in card.facts.text()  # says what it lacks for TensorRT
    assert window._devices is None  # New Model will list the worker's devices afresh


def test_export_tab_runs_an_export_on_the_worker(qtbot, job_window, lib, box, checkpoints):
    from tests.helpers import open_export_tab

    folder, _ = checkpoints
    window = job_window
    model, tab = open_export_tab(window, lib, folder / "detect_yolo26n.pt")
    tab.table.selectRow(ROW["engine"])  # TensorRT: only GPU workers with tensorrt are offered
    assert tab.run_on.currentData() is None and not tab.export_button.isEnabled()
    assert "no GPU worker" in tab.run_on.currentText()
    tab.table.selectRow(ROW["onnx"])
    labels = [tab.run_on.itemText(i) for i in range(tab.run_on.count())]
    assert labels == ["This machine", "box, CPU"]
    tab.run_on.setCurrentIndex(1)
    assert "Runs on box, CPU" in tab.why.text() and tab.export_button.isEnabled()
    tab.form.editors["imgsz"].setValue(64)
    tab.export_button.click()
    qtbot.waitUntil(lambda: tab.table.item(ROW["onnx"], 2).text() == "Completed", timeout=180000)
    assert tab.table.item(ROW["onnx"], 4).text() == "yes"
    job = window.jobs.store.get(tab.exports["onnx"].job_id)
    assert job.worker == "box" and "(built on box)" in tab.detail.text()


def test_a_password_is_refused_without_an_os_keyring_and_never_stored(qtbot, job_window, lib):
    import keyring
    from keyring.backends import fail

    if not isinstance(keyring.get_keyring(), fail.Keyring):
        import pytest

        pytest.skip("this machine has an OS keyring")
    from app.jobs.workers import WorkerStore
    from app.views.workers_page import AddWorkerDialog

    window = job_window
    window.sidebar.workers_button.click()
    page = window.workers_page
    page.add_button.click()  # the whole flow: the page adds whatever the dialog accepts
    dialog = page.findChild(AddWorkerDialog)
    dialog.name.setText("pw-box")
    dialog.host.setText("127.0.0.1")
    dialog.secret.setText("hunter2")
    dialog._on_buttons_accepted()
    assert dialog.values is None and "no OS keyring is available" in dialog.error.text()
    assert dialog.isVisible()  # refused, with nothing typed lost
    dialog.reject()
    qtbot.wait(300)  # give an add that should not happen its time on the library thread
    assert [w.name for w in WorkerStore(lib).list()] == []
    # Every file of the library, the WAL and its index included: a fresh write sits in library.db-wal, not library.db.
    files = [p for p in lib.home.rglob("*") if p.is_file()]
    assert lib.home / "library.db-wal" in files
    assert [p for p in files if b"hunter2" in p.read_bytes()] == []
