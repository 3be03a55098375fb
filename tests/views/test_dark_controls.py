"""The Deploy form's controls read in both themes: the LAN check box's frame, the port's arrows and the LAN warning
stand out from what is around them by WCAG's 3:1 for a control's parts (measured on the pixels drawn)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton, QStyleOptionSpinBox

from app.views.theme import apply_theme


def luminance(c: QColor) -> float:
    """WCAG relative luminance."""
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def best_contrast(image: QImage, rect: QRect, against: QColor) -> float:
    """The strongest contrast any pixel in ``rect`` makes with ``against``."""
    return max(contrast(image.pixelColor(x, y), against)
               for x in range(rect.left(), rect.right() + 1) for y in range(rect.top(), rect.bottom() + 1))


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_deploy_forms_controls_stand_out_in_both_themes(qtbot: Any, themed: QApplication, theme: str) -> None:
    from app.views.deploy.endpoint_form import EndpointForm

    apply_theme(themed, theme)
    form = EndpointForm()
    qtbot.addWidget(form)
    form.resize(360, 300)
    form.show()
    qtbot.waitExposed(form)
    for checked in (False, True):
        form.lan.setChecked(checked)
        QApplication.processEvents()
        image = form.grab().toImage()
        opt = QStyleOptionButton()
        opt.initFrom(form.lan)
        box = form.lan.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, opt, form.lan)
        box.translate(form.lan.mapTo(form, QPoint(0, 0)))
        around = image.pixelColor(box.left() - 3, box.center().y())  # what the box sits on
        assert best_contrast(image, box, around) >= 3.0, (theme, checked)
    warning = form.lan_warning
    top_left = warning.mapTo(form, QPoint(0, 0))
    inside = image.pixelColor(top_left.x() + 1, top_left.y() + warning.height() // 2)  # the warning's left bar
    assert contrast(inside, image.pixelColor(top_left.x() - 3, top_left.y() + 2)) >= 3.0

    spin = QStyleOptionSpinBox()
    spin.initFrom(form.port)
    style = form.port.style()
    arrows = style.subControlRect(QStyle.ComplexControl.CC_SpinBox, spin, QStyle.SubControl.SC_SpinBoxUp, form.port)
    arrows = arrows.united(style.subControlRect(QStyle.ComplexControl.CC_SpinBox, spin,
                                                QStyle.SubControl.SC_SpinBoxDown, form.port))
    field = form.port.grab().toImage()
    base = field.pixelColor(field.width() // 3, field.height() // 2)  # the field's fill, away from its text
    assert best_contrast(field, arrows.adjusted(2, 2, -2, -2), base) >= 3.0, theme


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_disabled_primary_button_looks_as_any_disabled_button(qtbot: Any, themed: QApplication, theme: str) -> None:
    from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

    apply_theme(themed, theme)
    holder = QWidget()
    qtbot.addWidget(holder)
    lay = QHBoxLayout(holder)
    primary, plain, enabled = QPushButton("Restore"), QPushButton("Restore"), QPushButton("Restore")
    for b in (primary, enabled):
        b.setObjectName("primary")
    primary.setEnabled(False)
    plain.setEnabled(False)
    for b in (primary, plain, enabled):
        b.setFixedSize(120, 34)
        lay.addWidget(b)
    holder.show()
    qtbot.waitExposed(holder)
    QApplication.processEvents()

    def fill(b: QPushButton) -> QColor:
        return b.grab().toImage().pixelColor(8, 17)  # inside the frame, left of the text

    assert contrast(fill(primary), fill(plain)) < 1.1, theme  # the Trash's Restore read as clickable in dark
    assert contrast(fill(enabled), fill(plain)) > 1.5, theme
