"""The Deploy tab clicked through as a user would: a real endpoint of a real checkpoint, served, called, stopped."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from PySide6.QtGui import QGuiApplication

COL_STATE, COL_URL, COL_TOKEN = 2, 5, 6


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # can a server listen there (TIME_WAIT aside)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _open_deploy_tab(qtbot, window, lib, checkpoint: Path):
    model = lib.import_checkpoint(checkpoint).model
    window.open_model(model.id)
    window.ops.wait_idle()
    page = window.model_page
    page.tabs.setCurrentWidget(page.deploy)
    tab = page.deploy
    qtbot.waitUntil(lambda: tab.form.runtime.count() > 0, timeout=15000)
    return model, tab


def _state(tab) -> str:
    item = tab.table.item(0, COL_STATE)
    return item.text() if item else ""


@pytest.mark.slow
def test_deploy_from_the_tab_serves_then_stops(qtbot, job_window, lib, checkpoints):
    folder, _ = checkpoints
    _, tab = _open_deploy_tab(qtbot, job_window, lib, folder / "detect_yolo26n.pt")
    assert tab.form.runtime.findData("pt") >= 0  # PyTorch is always offered
    tab.form.runtime.setCurrentIndex(tab.form.runtime.findData("pt"))
    tab.form.name.setText("squares")
    seen: list[str] = []

    def ready() -> bool:
        seen.append(_state(tab))
        return _state(tab) == "Ready" or _state(tab).startswith("Failed")

    tab.form.deploy_button.click()
    qtbot.waitUntil(ready, timeout=60000)
    assert _state(tab) == "Ready", _state(tab)
    assert {"Creating", "Deploying"} & set(seen)  # the row was there before it was Ready
    url = tab.table.item(0, COL_URL).text()
    assert url.startswith("http://127.0.0.1:") and tab.table.item(0, COL_TOKEN).text().startswith("••••")
    assert url in tab.curl.toPlainText() and "$YOLODESK_TOKEN" in tab.curl.toPlainText()

    QGuiApplication.clipboard().clear()
    tab.copy_token_button.click()
    qtbot.waitUntil(lambda: len(QGuiApplication.clipboard().text()) > 20, timeout=5000)
    token = QGuiApplication.clipboard().text()
    image = next(p for p in sorted((folder / "data" / "detect").rglob("*.png")) if "val" in p.parts)
    with open(image, "rb") as f:
        ok = httpx.post(f"{url}/predict", files={"file": (image.name, f, "image/png")},
                        headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert ok.status_code == 200, ok.text
    assert ok.json()["metadata"]["task"] == "detect"
    tab.copy_snippet_button.click()
    qtbot.waitUntil(lambda: token in QGuiApplication.clipboard().text(), timeout=5000)
    assert QGuiApplication.clipboard().text().startswith("curl -X POST " + url)

    # The chart reads /metrics every 2 s: the request shows as a p95 and a rate above zero.
    qtbot.waitUntil(lambda: bool(tab.chart.p95s) and any(r > 0 for _, r in tab.chart.rates), timeout=15000)
    qtbot.waitUntil(lambda: bool(tab.log.toPlainText().strip()), timeout=10000)

    port = urlparse(url).port
    assert port and not _port_free(port)
    assert tab.stop_button.isEnabled() and not tab.delete_button.isEnabled()
    tab.stop_button.click()
    qtbot.waitUntil(lambda: _state(tab) == "Stopped", timeout=30000)
    assert _port_free(port)
    assert tab.start_button.isEnabled() and tab.delete_button.isEnabled()
    tab.delete_button.click()
    qtbot.waitUntil(lambda: tab.table.rowCount() == 0, timeout=15000)


def test_a_refused_deploy_says_why_and_leaves_no_row(qtbot, job_window, lib, checkpoints):
    folder, _ = checkpoints
    _, tab = _open_deploy_tab(qtbot, job_window, lib, folder / "detect_yolo26n.pt")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        tab.form.port.setValue(busy.getsockname()[1])
        tab.form.deploy_button.click()
        qtbot.waitUntil(lambda: "Not deployed" in tab.form.verdict.text(), timeout=15000)
    assert "is in use" in tab.form.verdict.text() and "\n" not in tab.form.verdict.text()
    job_window.ops.wait_idle()
    assert tab.table.rowCount() == 0 and tab.form.deploy_button.isEnabled()
