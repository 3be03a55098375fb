"""Issue 13 item 1: the Export form follows the selected model, and a verified export is not replaced unasked."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtWidgets import QMessageBox

from app.exporters.registry import FORMATS
from tests.helpers import open_export_tab

ROW = {f.argument: i for i, f in enumerate(FORMATS)}


def _classifier_at(folder: Path, imgsz: int, out: Path) -> Path:
    """The fixture's classifier, its checkpoint saying it was trained at ``imgsz``."""
    ckpt = torch.load(folder / "classify_yolo11n.pt", map_location="cpu", weights_only=False)
    ckpt["train_args"] = {**ckpt["train_args"], "imgsz": imgsz}
    torch.save(ckpt, out)
    return out


def test_form_takes_each_models_imgsz_and_task(qtbot, job_window, lib, checkpoints, tmp_path):
    folder, _ = checkpoints
    classifier, tab = open_export_tab(job_window, lib, _classifier_at(folder, 224, tmp_path / "cls224.pt"))
    assert classifier.imgsz == 224
    tab.table.selectRow(ROW["onnx"])
    assert tab.form.editors["imgsz"].value() == 224
    assert "nms" not in tab.form.editors  # a classifier cannot take nms=True

    tab.form.editors["imgsz"].setValue(320)  # an edit for this model only
    _, tab = open_export_tab(job_window, lib, folder / "detect_yolo26n.pt")
    assert tab.form.editors["imgsz"].value() == 64
    assert "nms" in tab.form.editors


def test_second_export_of_a_verified_format_asks_and_says_what_differs(qtbot, job_window, lib, checkpoints,
                                                                        monkeypatch):
    folder, _ = checkpoints
    _, tab = open_export_tab(job_window, lib, folder / "detect_yolo26n.pt")
    tab.table.selectRow(ROW["torchscript"])
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, *a, **k: (
        asked.append(text), QMessageBox.StandardButton.No)[1])
    tab.export_button.click()  # the first export: nothing to replace, nothing asked
    qtbot.waitUntil(lambda: tab.table.item(ROW["torchscript"], 2).text() == "Completed", timeout=120000)
    assert tab.table.item(ROW["torchscript"], 4).text() == "yes" and asked == []

    jobs_before = len(job_window.jobs.store.list())
    tab.form.editors["imgsz"].setValue(96)
    tab.export_button.click()
    job_window.ops.wait_idle()
    assert len(asked) == 1 and "imgsz 64 → 96" in asked[0] and "replaces" in asked[0]
    assert len(job_window.jobs.store.list()) == jobs_before  # answered No: nothing queued
    assert tab.exports["torchscript"].verified and tab.table.item(ROW["torchscript"], 2).text() == "Completed"
