"""An endpoint on a worker made from the Deploy tab (the real sshd fixture; the worker is this machine): served on
the worker's loopback, reached through the SSH tunnel the app opens without holding its library thread, its token
rotated over SFTP without a restart, then stopped."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
import pytest

from tests.remote import conftest as remote
from tests.views.test_deploy_tab import COL_STATE, COL_URL, _open_deploy_tab, _state

sshd, workers, box, _no_user_ssh_config = remote.sshd, remote.workers, remote.box, remote._no_user_ssh_config
_tidy_worker_home = remote._tidy_worker_home
pytestmark = pytest.mark.slow


def _post(url: str, image: Path, token: str) -> int:
    with open(image, "rb") as f:
        return httpx.post(f"{url}/predict", files={"file": ("a.png", f, "image/png")},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60).status_code


def test_a_workers_endpoint_from_the_tab(qtbot, box, job_window, lib, checkpoints):
    from PySide6.QtWidgets import QMessageBox

    from app.deploy.store import EndpointStore

    folder, _ = checkpoints
    _, tab = _open_deploy_tab(qtbot, job_window, lib, folder / "detect_yolo26n.pt")
    where = tab.form.where
    assert where.findData("box") >= 0, [where.itemText(i) for i in range(where.count())]
    where.setCurrentIndex(where.findData("box"))
    assert not tab.form.lan.isEnabled() and tab.form.runtime.currentData() == "pt"
    seen: set[str] = set()

    def served_here() -> bool:
        seen.add(_state(tab))
        url = tab.table.item(0, COL_URL).text() if tab.table.rowCount() else ""
        return (_state(tab) == "Ready" and url.startswith("http://")) or _state(tab).startswith("Failed")

    tab.form.deploy_button.click()
    qtbot.waitUntil(served_here, timeout=120000)
    assert _state(tab) == "Ready", _state(tab)
    # The poll that saw it Ready started the tunnel and returned at once: the row said so before it had a URL.
    assert "Deploying… (opening the SSH tunnel)" in seen, seen
    ep = EndpointStore(lib).get(tab.selected_id())
    url = tab.table.item(0, COL_URL).text()
    assert ep.worker == "box" and url == f"http://127.0.0.1:{ep.tunnel_port}" and ep.tunnel_port != ep.port
    assert tab.where_note.isVisible() and "loopback" in tab.where_note.text() and url in tab.where_note.text()
    token = tab.tokens[ep.id]
    image = next(p for p in sorted((folder / "data" / "detect").rglob("*.png")) if "val" in p.parts)
    assert _post(url, image, token) == 200

    tab.rotate_button.click()  # the new token travels to the worker's job folder over SFTP
    qtbot.waitUntil(lambda: tab.changes.confirm_box is not None, timeout=5000)
    tab.changes.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "new token" in tab.verdict.text() or "not rotated" in tab.verdict.text(), timeout=60000)
    assert "old one is refused" in tab.verdict.text(), tab.verdict.text()
    new = tab.tokens[ep.id]
    assert new != token and _post(url, image, token) == 403 and _post(url, image, new) == 200
    assert EndpointStore(lib).get(ep.id).job_id == ep.job_id  # the same job: no restart

    tunnel = psutil.Process(EndpointStore(lib).get(ep.id).tunnel_pid or 0)
    tab.stop_button.click()
    qtbot.waitUntil(lambda: _state(tab) == "Stopped", timeout=60000)
    assert tab.table.item(0, COL_STATE).text() == "Stopped"
    gone, _alive = psutil.wait_procs([tunnel], timeout=10)  # the tunnel goes with the endpoint
    assert gone, "the tunnel process outlived its endpoint"
