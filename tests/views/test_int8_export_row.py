"""The Export tab's row of a format with an INT8 export: its accuracy check, side by side with the FP32 verdict."""

from __future__ import annotations

from app.exporters.registry import FORMATS
from app.exporters.store import ExportStore
from app.views.export_tab import ExportTab

ROW = {f.argument: i for i, f in enumerate(FORMATS)}


def _completed(store: ExportStore, model_id: str, fmt: str, accuracy: dict | None, verified: bool) -> None:
    rec = store.create(model_id, fmt, {"imgsz": 64, **({"quantize": 8} if accuracy else {})})
    args = {**rec.args, "accuracy": accuracy} if accuracy else rec.args
    store.set(rec.id, status="Completed", path=f"/x/{fmt}", size=1000, verified=verified, args=args,
              verification="top 5 detections match" if not accuracy else "checked")


def test_the_row_says_int8_figures_and_marks_an_inaccurate_one(qtbot, lib, checkpoints):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    store = ExportStore(lib)
    _completed(store, model.id, "onnx", None, True)
    _completed(store, model.id, "onnx-int8", {"metric": "mAP50", "pt": 0.519, "int8": 0.512, "delta_points": -0.7,
                                               "tolerance_points": 1.0, "accurate": True}, True)
    _completed(store, model.id, "openvino-int8", {"metric": "mAP50", "pt": 0.519, "int8": 0.49, "delta_points": -2.9,
                                                   "tolerance_points": 1.0, "accurate": False}, False)
    tab = ExportTab()
    qtbot.addWidget(tab)
    tab.show_model(model, store.for_model(model.id), {f.argument: ("ready", "") for f in FORMATS})
    onnx, openvino = tab.table.item(ROW["onnx"], 4), tab.table.item(ROW["openvino"], 4)
    assert onnx.text() == "yes · INT8 −0.7" and "INT8 · mAP50 0.512 vs 0.519 (−0.7)" in onnx.toolTip()
    assert openvino.text() == "INT8 −2.9 ✗" and "not accurate enough" in openvino.toolTip()
    assert tab.table.item(ROW["torchscript"], 4).text() == "—"
    tab.table.selectRow(ROW["onnx"])
    assert "INT8 · mAP50 0.512 vs 0.519 (−0.7)" in tab.detail.text() and "Verified" in tab.detail.text()
    tab.table.selectRow(ROW["openvino"])
    assert "INT8 · mAP50 0.490 vs 0.519 (−2.9) · not accurate enough" in tab.detail.text()
    assert "never chosen automatically" in tab.detail.text() and "/x/openvino-int8" in tab.detail.text()
    assert tab.delete_button.isEnabled() and tab.download_button.isEnabled()  # the INT8 export alone: its own
    with qtbot.waitSignal(tab.deleteRequested) as asked:
        tab.delete_button.click()
    assert asked.args == [next(e.id for e in store.for_model(model.id) if e.format == "openvino-int8")]


def test_int8_of_a_model_without_a_data_set_is_refused_in_a_dialog(qtbot, job_window, lib, checkpoints, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from tests.helpers import open_export_tab

    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a, **k: warned.append(text))
    folder, _ = checkpoints
    model, tab = open_export_tab(job_window, lib, folder / "yolov5nu_untrained.pt")  # no data set linked
    tab.table.selectRow(ROW["onnx"])
    quantize = tab.form.editors["quantize"]
    quantize.setCurrentIndex(quantize.findData(8))
    tab.export_button.click()
    qtbot.waitUntil(lambda: len(warned) == 1, timeout=10000)
    assert "needs its data set to calibrate and to check accuracy" in warned[0] and "none linked" in warned[0]
    assert job_window.jobs.store.list() == [] and ExportStore(lib).for_model(model.id) == []


def test_download_and_delete_offer_fp32_or_int8_when_a_format_has_both(qtbot, lib, checkpoints):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    store = ExportStore(lib)
    _completed(store, model.id, "onnx", None, True)
    _completed(store, model.id, "onnx-int8", {"metric": "mAP50", "pt": 0.519, "int8": 0.512, "delta_points": -0.7,
                                               "tolerance_points": 1.0, "accurate": True}, True)
    _completed(store, model.id, "openvino", None, True)
    running = store.create(model.id, "openvino-int8", {"imgsz": 64, "quantize": 8})
    store.set(running.id, status="Running")
    ids = {e.format: e.id for e in store.for_model(model.id)}
    tab = ExportTab()
    qtbot.addWidget(tab)
    tab.show_model(model, store.for_model(model.id), {f.argument: ("ready", "") for f in FORMATS})
    tab.table.selectRow(ROW["onnx"])
    download, delete = tab.download_button.menu(), tab.delete_button.menu()
    assert download is not None and delete is not None
    assert [a.text() for a in download.actions()] == ["FP32 export (1 kB)", "INT8 export (1 kB, mAP50 −0.7)"]
    with qtbot.waitSignal(tab.downloadRequested) as asked:
        download.actions()[1].trigger()
    assert asked.args == [ids["onnx-int8"]]
    with qtbot.waitSignal(tab.deleteRequested) as asked:
        delete.actions()[0].trigger()
    assert asked.args == [ids["onnx"]]
    tab.table.selectRow(ROW["openvino"])  # its INT8 export is running: only the FP32 one can go
    delete = tab.delete_button.menu()
    assert [(a.text(), a.isEnabled()) for a in delete.actions()] == [("FP32 export (1 kB)", True),
                                                                     ("INT8 export (running)", False)]
    assert [a.isEnabled() for a in tab.download_button.menu().actions()] == [True, False]
    tab.table.selectRow(ROW["torchscript"])
    assert tab.download_button.menu() is None and not tab.download_button.isEnabled()
