"""Saving an export offers "<model name>-<format>.<ext>", not ultralytics' "weights.onnx" for every export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from app.views.export_tab import suggested_export_name
from tests.helpers import open_export_tab
from tests.views.test_export_tab import ROW


def test_the_save_dialog_suggests_the_model_name_and_format(qtbot, job_window, lib, checkpoints, tmp_path,
                                                            monkeypatch):
    folder, _ = checkpoints
    model, tab = open_export_tab(job_window, lib, folder / "detect_yolo26n.pt")
    tab.table.selectRow(ROW["onnx"])
    tab.form.editors["imgsz"].setValue(64)
    tab.export_button.click()
    qtbot.waitUntil(lambda: tab.table.item(ROW["onnx"], 2).text() == "Completed", timeout=120000)
    assert Path(tab.exports["onnx"].path).name == "weights.onnx"  # what ultralytics called it
    offered: list[str] = []
    target = tmp_path / "chosen.onnx"

    def save_dialog(_parent, _title, suggested, *_a, **_k):  # the user accepts a path; the suggestion is recorded
        offered.append(suggested)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    tab.download_button.click()
    assert offered == [f"{model.name}-onnx.onnx"]
    qtbot.waitUntil(target.exists, timeout=10000)


def test_a_name_unfit_for_a_file_is_made_fit():
    assert suggested_export_name("cars/v2: best", "openvino", "weights_openvino_model", True) == "cars_v2_ best-openvino"
    assert suggested_export_name("...", "torchscript", "weights.torchscript") == "model-torchscript.torchscript"
