"""The window's side of trust: a training or export the loading gate refused offers "Trust this file and retry"."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from app.exporters.registry import FORMATS
from remote_agent.checkpoint_scan import sha256_file
from tests.helpers import open_export_tab
from tests.jobs.conftest import FAST
from tests.jobs.test_gate import odd_pt

ROW = {f.argument: i for i, f in enumerate(FORMATS)}


def prompt() -> QMessageBox | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                 and w.objectName() == "trustCheckpoint" and w.isVisible()), None)


def accept(qtbot, label: str) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: prompt() is not None, timeout=10000)
    assert "runs whatever code the file contains" in prompt().text()
    next(b for b in prompt().buttons() if b.text() == label).click()


def test_a_refused_export_offers_trust_and_retry(qtbot, job_window, lib, checkpoints, tmp_path):
    odd = odd_pt(checkpoints, tmp_path / "odd.pt")
    model, tab = open_export_tab(job_window, lib, odd)
    tab.table.selectRow(ROW["torchscript"])
    tab.form.editors["imgsz"].setValue(64)
    assert not tab.trust_button.isVisible()
    tab.export_button.click()
    qtbot.waitUntil(lambda: tab.table.item(ROW["torchscript"], 2).text() == "Failed", timeout=120000)
    assert "safe loader refused" in tab.detail.text()
    assert tab.trust_button.isVisible()
    tab.trust_button.click()
    accept(qtbot, "Trust and retry")
    qtbot.waitUntil(lambda: tab.table.item(ROW["torchscript"], 2).text() == "Completed", timeout=120000)
    assert lib.is_trusted(sha256_file(model.weights_path))


def test_a_refused_fine_tuning_offers_trust_and_retry(qtbot, job_window, lib, checkpoints, tiny_data, tmp_path):
    from app.jobs.spec import TrainRequest

    window = job_window
    odd = odd_pt(checkpoints, tmp_path / "odd.pt")
    job = window.jobs.submit_train(TrainRequest(model=str(odd), task="detect", data=str(tiny_data["detect"]),
                                                epochs=1, imgsz=64, batch=4, extra=dict(FAST)))
    window.open_model(job.model_id)
    window.ops.wait_idle()
    train = window.model_page.train
    window.model_page.tabs.setCurrentWidget(train)
    qtbot.waitUntil(lambda: train.job is not None and train.job.status == "Failed", timeout=120000)
    assert train.retry_button.isVisible() and train.retry_button.text() == "Trust this file and retry"
    assert not lib.is_trusted(sha256_file(odd))
    train.retry_button.click()
    accept(qtbot, "Trust and retry")
    qtbot.waitUntil(lambda: train.job is not None and train.job.retry_of == job.id, timeout=20000)
    assert lib.is_trusted(sha256_file(odd))
    qtbot.waitUntil(lambda: train.job.status == "Completed", timeout=240000)
    assert train.retry_button.text() == "Retry"
