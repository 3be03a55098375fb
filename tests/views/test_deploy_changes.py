"""The Deploy tab changing a running endpoint as a user would: the test panel, Replace model… under load, Rotate
token — against a real endpoint of a real checkpoint on 127.0.0.1, every request a real HTTP one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from tests.helpers import PredictLoad
from tests.views.test_deploy_tab import COL_TOKEN, COL_URL, _open_deploy_tab, _state

COL_MODEL = 1


def _post(url: str, image: Path, token: str) -> int:
    with open(image, "rb") as f:
        return httpx.post(f"{url}/predict", files={"file": ("a.png", f, "image/png")},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60).status_code


@pytest.mark.slow
def test_try_replace_and_rotate_from_the_tab(qtbot, job_window, lib, checkpoints, tmp_path):
    folder, _ = checkpoints
    lib.import_checkpoint(folder / "yolov5nu_untrained.pt")  # another detector: what the endpoint swaps to
    lib.import_checkpoint(folder / "classify_yolo11n.pt")  # another task: never offered
    _, tab = _open_deploy_tab(qtbot, job_window, lib, folder / "detect_yolo26n.pt")
    tab.form.runtime.setCurrentIndex(tab.form.runtime.findData("pt"))
    tab.form.deploy_button.click()
    qtbot.waitUntil(lambda: _state(tab) == "Ready" or _state(tab).startswith("Failed"), timeout=60000)
    assert _state(tab) == "Ready", _state(tab)
    url = tab.table.item(0, COL_URL).text()
    token = tab.tokens[tab.selected_id()]
    image = next(p for p in sorted((folder / "data" / "detect").rglob("*.png")) if "val" in p.parts)

    # The test panel: the picture goes to the endpoint, the JSON and the drawn picture come back.
    panel = tab.try_panel
    panel.choose(str(image))
    qtbot.waitUntil(lambda: panel.response is not None, timeout=30000)
    assert '"images"' in panel.json.toPlainText() and panel.json.isReadOnly()
    assert panel.response["metadata"]["model"] == "detect_yolo26n"
    assert panel.drawn is not None and panel.drawn.size().width() > 0
    assert "detect_yolo26n (detect)" in panel.verdict.text()
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_text("this is text, not a picture")
    panel.choose(str(not_a_picture))
    qtbot.waitUntil(lambda: "Not answered" in panel.verdict.text(), timeout=30000)
    assert "(415" in panel.verdict.text() and "\n" not in panel.verdict.text()

    # Replace model… while a client sends requests: none fails, the new model answers afterwards.
    tab.replace_button.click()
    qtbot.waitUntil(lambda: tab.changes.dialog is not None, timeout=15000)
    dialog = tab.changes.dialog
    assert [dialog.model.itemText(i) for i in range(dialog.model.count())] == ["yolov5nu_untrained"]
    dialog.runtime.setCurrentIndex(dialog.runtime.findData("pt"))
    with PredictLoad(url, image, token) as load:
        qtbot.waitUntil(lambda: len(load.answers) >= 2, timeout=30000)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: "now serves" in tab.verdict.text() or "Not replaced" in tab.verdict.text(),
                        timeout=120000)
        n = len(load.answers)
        qtbot.waitUntil(lambda: len(load.answers) >= n + 3, timeout=30000)
    assert "now serves yolov5nu_untrained" in tab.verdict.text(), tab.verdict.text()
    assert {s for s, _ in load.answers} == {200}, load.answers
    assert load.answers[0][1] == "detect_yolo26n" and load.answers[-1][1] == "yolov5nu_untrained"
    qtbot.waitUntil(lambda: tab.table.item(0, COL_MODEL).text() == "yolov5nu_untrained", timeout=15000)
    assert _state(tab) == "Ready" and tab.table.item(0, COL_URL).text() == url  # same URL, same token
    assert _post(url, image, token) == 200

    # Rotate token: confirmed, then the same server refuses the old token and takes the new one.
    shown_before = tab.table.item(0, COL_TOKEN).text()
    tab.rotate_button.click()
    qtbot.waitUntil(lambda: tab.changes.confirm_box is not None, timeout=5000)
    assert "stops working now" in tab.changes.confirm_box.text()
    tab.changes.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "new token" in tab.verdict.text() or "not rotated" in tab.verdict.text(), timeout=30000)
    assert "old one is refused" in tab.verdict.text(), tab.verdict.text()
    QGuiApplication.clipboard().clear()
    tab.copy_token_button.click()
    qtbot.waitUntil(lambda: len(QGuiApplication.clipboard().text()) > 20, timeout=5000)
    new = QGuiApplication.clipboard().text()
    assert new != token
    assert _post(url, image, token) == 403 and _post(url, image, new) == 200
    from app.deploy.predict_client import PredictRefused, send_picture

    for wrong, said in ((token, "refused this token (was it rotated?) (403"), (None, "wants its bearer token (401")):
        with pytest.raises(PredictRefused, match=said.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
            send_picture(url, wrong, image)
    qtbot.waitUntil(lambda: tab.table.item(0, COL_TOKEN).text() != shown_before, timeout=10000)
    assert tab.table.item(0, COL_TOKEN).text().endswith(new[-4:])

    # Stopped: the panel says so in one sentence and sends nothing.
    tab.stop_button.click()
    qtbot.waitUntil(lambda: _state(tab) == "Stopped", timeout=30000)
    assert not tab.replace_button.isEnabled()
    panel.choose(str(image))
    assert "Select a Ready endpoint" in panel.verdict.text()
