"""The Add worker dialog shows its whole text; a failed connection says what happened, with real sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app.jobs.ssh import SSHError, connect, resolve
from app.views.workers_page import AddWorkerDialog


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback TCP server that accepts connections but never sends the SSH greeting."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def failure(host: str, port: int, tmp_path, timeout: float = 5.0) -> str:
    from app.jobs.ssh import KnownHosts

    with pytest.raises(SSHError) as caught:
        connect(resolve(host, port, "root"), KnownHosts(tmp_path / "known_hosts"), timeout=timeout)
    return str(caught.value)


def test_a_closed_port_says_connection_refused(tmp_path):
    message = failure("127.0.0.1", closed_port(), tmp_path)
    assert "connection refused" in message and "Errno" not in message, message


def test_an_unknown_host_name_says_dns(tmp_path):
    message = failure("nosuch.invalid", 22, tmp_path)
    assert "host name not found (DNS)" in message and "Errno" not in message, message


def test_a_server_that_never_greets_says_timed_out(tmp_path, silent_server):
    message = failure("127.0.0.1", silent_server, tmp_path, timeout=1.0)
    assert "timed out" in message and "Errno" not in message, message


def test_the_workers_page_shows_a_refused_test_in_words(qtbot, job_window, tmp_path, monkeypatch):
    monkeypatch.setenv("YOLODESK_SSH_CONFIG", str(tmp_path / "no-ssh-config"))
    job_window.show_workers_page()
    page = job_window.workers_page
    page.store.add("dead-box", "127.0.0.1", closed_port(), "root")
    page.refresh()
    job_window.ops.wait_idle()
    page.test("dead-box")

    def failed_box() -> QMessageBox | None:
        return next((b for b in page.findChildren(QMessageBox) if b.objectName() == "testFailed" and b.isVisible()),
                    None)

    qtbot.waitUntil(lambda: failed_box() is not None, timeout=20000)
    box = failed_box()
    assert "connection refused" in box.text() and "Errno" not in box.text(), box.text()
    box.close()
    job_window.ops.wait_idle()
    qtbot.waitUntil(lambda: "connection refused" in page.cards["dead-box"].facts.text(), timeout=10000)


@pytest.fixture
def app_look(qapp: QApplication) -> Iterator[QApplication]:
    """The app's own style sheet and palette (its padding is what cuts text); the session's look restored after."""
    from app.views.theme import apply_theme

    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp, "light")
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_the_add_worker_dialog_cuts_no_text(qtbot, app_look):
    dialog = AddWorkerDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    for edit in (dialog.name, dialog.host, dialog.key, dialog.secret):  # each placeholder shown whole
        assert edit.placeholderText()
        shown = edit.width() - 24  # the style sheet's padding (2 × 8) and border (2 × 1), Qt's margin (2 × 2)
        assert edit.fontMetrics().horizontalAdvance(edit.placeholderText()) <= shown, edit.placeholderText()
    port_text = dialog.port.fontMetrics().horizontalAdvance(dialog.port.specialValueText())
    assert port_text <= dialog.port.lineEdit().width(), dialog.port.width()
    for label in dialog.findChildren(QLabel):
        if label.text() and not label.wordWrap():
            assert label.width() >= label.sizeHint().width(), label.text()
