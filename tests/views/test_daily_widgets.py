"""Issue 13 items 4 and 9: a sparkline's tooltip is readable; no GPU is said plainly and costs no row."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QToolTip

from app.widgets.sparkline import Sparkline
from app.widgets.system_meters import SystemMeters

SAMPLE = {"t": 100.0, "cpu": 54.0, "ram": 6.0, "ram_used": 1.5 * 2**30, "ram_total": 23.6 * 2**30, "disk": 37.0,
          "disk_free": 64 * 2**30, "gpus": []}


def _shown_tooltip():  # noqa: ANN202
    return next((w for w in QApplication.topLevelWidgets() if w.inherits("QTipLabel") and w.isVisible()), None)


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen platform, not the app
def test_sparkline_tooltip_is_painted_opaque_not_a_black_box(qtbot):
    spark = Sparkline([0.2, 0.4, 0.5])
    qtbot.addWidget(spark)
    spark.show()
    qtbot.waitExposed(spark)
    QToolTip.showText(spark.mapToGlobal(QPoint(10, 10)), "epoch 2: 0.4", spark)
    qtbot.waitUntil(lambda: _shown_tooltip() is not None, timeout=3000)
    tip = _shown_tooltip()
    image = tip.grab().toImage()
    corner = QColor(image.pixel(image.width() // 2, 2))  # inside the border, above the text
    try:
        assert corner.alpha() == 255 and corner.lightness() > 100, corner.name()
    finally:
        QToolTip.hideText()


def test_missing_nvml_reads_as_no_gpu_and_takes_no_row(qtbot):
    meters = SystemMeters()
    qtbot.addWidget(meters)
    meters.resize(1000, 600)
    meters.show()
    meters.add_sample({**SAMPLE, "gpu_note": "no NVIDIA GPU: NVML Shared Library Not Found"})
    title = meters.plot.getPlotItem().titleLabel.text
    assert "no NVIDIA GPU on this machine" in title and "NVML" not in title
    assert not meters.note.isVisible()  # the meters row is followed straight by the chart
    assert "NVML Shared Library Not Found" in meters.plot.toolTip()  # the raw reason stays at hand
    assert meters.meters["CPU"].reading.text() == "54 %"
    widths = [meters.meters[n].width() for n in ("CPU", "RAM", "Disk")]
    assert min(widths) > 0.28 * meters.width()  # the three meters share the width

    meters.add_sample({**SAMPLE, "t": 102.0, "gpu_note": "no NVIDIA GPU readings: nvidia-ml-py is not installed"})
    assert "nvidia-ml-py is not installed" in meters.plot.getPlotItem().titleLabel.text  # another reason is kept
