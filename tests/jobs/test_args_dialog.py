"""The New Model dialog marks a refused field (device, or any other argument by name) and starts nothing."""

from __future__ import annotations

import pytest

from app.jobs.spec import SpecError


def test_dialog_marks_a_device_this_machine_lacks_and_other_refused_arguments(qtbot, job_window, tiny_data):
    job_window.open_new_model_dialog()
    dialog = job_window._dialog
    dialog.data.setCurrentText(str(tiny_data["detect"]))
    dialog.imgsz.setValue(64)
    dialog.set_devices([("7", "cuda:7 · a GPU this machine does not have")])
    dialog.device.setCurrentIndex(dialog.device.findData("7"))
    dialog.start.click()
    qtbot.waitUntil(lambda: dialog._errors["device"].isVisible(), timeout=60_000)
    assert "has no CUDA GPU, so no 7" in dialog._errors["device"].text()
    assert dialog.isVisible() and job_window.jobs.store.list() == []

    req = dialog.build_request()
    req.extra["lr0"] = "abc"
    req.device = "cpu"
    with pytest.raises(SpecError) as e:
        req.validate()
    dialog.show_problems(e.value.problems)
    assert dialog._errors["arguments"].isVisible() and "lr0: must be a number" in dialog._errors["arguments"].text()
    assert not dialog._errors["device"].isVisible()
    dialog.reject()
