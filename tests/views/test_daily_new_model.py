"""New Model as people use it: asks for a data set by name, clears a fixed field's message, fits, remembers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QPushButton

from app.views.new_model_dialog import CHOOSE_DATA, NewModelDialog


def _dialog(qtbot, tmp_path: Path) -> NewModelDialog:
    d = NewModelDialog([], [], tmp_path / "weights", [], 1, settings_path=tmp_path / "window.ini")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def test_no_data_set_asks_for_one_and_the_message_goes_once_the_field_is_fixed(qtbot, job_window, tiny_data):
    job_window.open_new_model_dialog()
    dialog = job_window._dialog
    assert Path(dialog._settings.fileName()) == job_window.lib.home / "window.ini"  # the library's own settings
    dialog.task.setCurrentText("detect")
    dialog.start.click()
    error = dialog._errors["dataset"]
    qtbot.waitUntil(error.isVisible, timeout=30000)
    assert error.text() == CHOOSE_DATA and "`.`" not in error.text()
    qtbot.waitUntil(dialog.start.isEnabled, timeout=30000)
    dialog.data.setCurrentText(str(tiny_data["detect"]))
    assert not error.isVisible() and error.text() == ""
    dialog.reject()


def test_the_dialog_fits_700_px_with_advanced_open_and_nothing_is_clipped(qtbot, tmp_path):
    d = _dialog(qtbot, tmp_path)
    d.advanced.expand(animate=False)
    qtbot.waitUntil(lambda: d.height() > 500, timeout=2000)  # grown to show Advanced
    assert d.height() <= 700
    qtbot.wait(50)
    assert not d.scroll.verticalScrollBar().isVisible()  # every field in sight, none scrolled away
    assert d.data.width() >= 360  # the path field is wide
    buttons = d.findChildren(QPushButton)
    assert len(buttons) >= 5
    for b in buttons:
        if b.isVisible():
            assert b.width() >= b.sizeHint().width(), b.text()  # a clipped label shows as a button under its hint
    d.reject()


def test_the_last_settings_come_back_next_time(qtbot, tmp_path, tiny_data):
    d = _dialog(qtbot, tmp_path)
    d.task.setCurrentText("pose")
    d.scale.setCurrentText("s")
    d.data.setCurrentText(str(tiny_data["pose"]))
    d.epochs.setValue(7)
    d.imgsz.setValue(96)
    d.lr0.setValue(0.02)
    d.cos_lr.setChecked(True)
    d.start.click()
    qtbot.waitUntil(lambda: d.request is not None, timeout=60000)  # checked and accepted: remembered
    again = _dialog(qtbot, tmp_path)
    assert (again.task.currentText(), again.scale.currentText()) == ("pose", "s")
    assert again.data.currentText() == str(tiny_data["pose"])
    assert (again.epochs.value(), again.imgsz.value(), again.lr0.value()) == (7, 96, 0.02)
    assert again.cos_lr.isChecked() and again.device.currentData() == "cpu"
    fresh = _dialog(qtbot, tmp_path / "other")  # another library starts from the defaults
    assert fresh.epochs.value() == 30 and fresh.data.currentText() == ""
    for w in (again, fresh):
        w.reject()
