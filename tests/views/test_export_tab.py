"""The Export tab, clicked through as a user would, with a real ONNX export."""

from __future__ import annotations

from pathlib import Path

from app.exporters.registry import FORMATS
from tests.helpers import open_export_tab

ROW = {f.argument: i for i, f in enumerate(FORMATS)}


def test_export_tab_exports_verifies_and_deletes(qtbot, job_window, lib, checkpoints, tmp_path):
    folder, _ = checkpoints
    window = job_window
    model, tab = open_export_tab(window, lib, folder / "detect_yolo26n.pt")
    assert tab.table.rowCount() == len(FORMATS) == 22
    cell = {fmt: tab.table.item(ROW[fmt], 1).text() for fmt in ("onnx", "coreml", "engine", "hailo")}
    assert cell == {"onnx": "ready", "coreml": "needs toolchain", "engine": "needs GPU worker", "hailo": "vendor SDK"}

    tab.table.selectRow(ROW["coreml"])
    assert not tab.export_button.isEnabled() and "toolchain" in tab.why.text()
    tab.table.selectRow(ROW["onnx"])
    assert tab.export_button.isEnabled()
    assert set(tab.form.editors) == {"imgsz", "batch", "data", "dynamic", "quantize", "opset", "simplify", "nms",
                                     "fraction"}
    tab.form.editors["imgsz"].setValue(64)
    tab.export_button.click()
    qtbot.waitUntil(lambda: tab.table.item(ROW["onnx"], 2).text() == "Completed", timeout=120000)
    assert tab.table.item(ROW["onnx"], 4).text() == "yes"
    assert "Verified" in tab.detail.text() and tab.download_button.isEnabled()
    saved = tmp_path / "model.onnx"
    window.exports.save(Path(tab.exports["onnx"].path), saved)
    qtbot.waitUntil(saved.exists, timeout=10000)

    tab.delete_button.click()
    qtbot.waitUntil(lambda: tab.table.item(ROW["onnx"], 2).text() == "—", timeout=5000)
    assert not (lib.models_dir / model.id / "exports" / "onnx").exists()


def test_install_toolchain_button_installs_it(qtbot, job_window, lib, checkpoints, monkeypatch):
    folder, _ = checkpoints
    _, tab = open_export_tab(job_window, lib, folder / "detect_yolo26n.pt")
    tab.table.selectRow(ROW["ncnn"])
    assert tab.install_button.isVisible() and "ncnn" in tab.install_button.text()
    assert not tab.export_button.isEnabled()
    values: list[int] = []
    tab.install_bar.valueChanged.connect(values.append)
    tab.install_button.click()
    qtbot.waitUntil(lambda: tab.table.item(ROW["ncnn"], 1).text() == "ready", timeout=300000)
    assert values and max(values) >= 700 and values == sorted(values)  # a progress bar that only moves forward
    assert not tab.install_bar.isVisible()
    assert not tab.install_button.isVisible() and tab.export_button.isEnabled()
    tab.table.selectRow(ROW["rknn"])  # an environment of its own, with its own torch: says so, offers the install
    assert tab.install_button.isVisible() and "isolated-rknn" in tab.install_button.text()
    assert "torch ≤ 2.4.0" in tab.why.text() and "5,900 MB" in tab.why.text()
    tab.table.selectRow(ROW["edgetpu"])  # its compiler is not on the package index: no button that cannot work
    assert not tab.install_button.isVisible() and "Edge TPU compiler" in tab.why.text()
    tab.table.selectRow(ROW["imx"])  # refused for a YOLO26 model whatever is installed: said in the grid
    assert tab.table.item(ROW["imx"], 1).text() == "not for this model" and not tab.export_button.isEnabled()
    assert "YOLOv8n and YOLO11n" in tab.why.text() and not tab.install_button.isVisible()

    from PySide6.QtWidgets import QMessageBox

    tab.table.selectRow(ROW["ncnn"])  # installed: the Toolchain menu repairs or removes it
    assert tab.toolchain_button.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab.remove_action.trigger()
    qtbot.waitUntil(lambda: tab.table.item(ROW["ncnn"], 1).text() != "ready", timeout=60000)
    assert not (lib.home / "toolchains" / "ncnn").exists()
    assert tab.install_button.isVisible() and not tab.toolchain_button.isVisible()
