"""The theme: dark or light from the system or YOLODESK_THEME, no light colour in the stylesheet, sharp icons."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

from app.paths import resources_dir
from app.views.main_window import MainWindow
from app.views.theme import apply_theme, chosen_theme, dot_icon, is_dark, palette_for, svg_icon, theme_for


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The app as it starts (Fusion, palette, sheet); the test session's own look restored afterwards."""
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def shown_window(qtbot, lib) -> MainWindow:
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitExposed(w)
    w.ops.wait_idle()
    QApplication.processEvents()
    return w


def background_pixels(w: MainWindow) -> list[QColor]:
    """Colours actually drawn: the sidebar's empty bottom and the page's right edge."""
    image = w.grab().toImage()
    side = w.sidebar.mapTo(w, w.sidebar.rect().bottomLeft())
    return [image.pixelColor(side.x() + 20, side.y() - 10), image.pixelColor(image.width() - 8, image.height() // 2)]


def texts_and_fields(w: MainWindow) -> tuple[list[QColor], list[QColor]]:
    labels = [x for x in w.findChildren(QLabel) if x.isVisible() and x.text()]
    fields = [x for x in w.findChildren(QLineEdit) if x.isVisible()] or [QLineEdit(w)]
    assert len(labels) >= 3
    return ([x.palette().color(x.foregroundRole()) for x in labels],
            [x.palette().color(QPalette.ColorRole.Base) for x in fields])


def test_forced_dark_gives_a_dark_window_with_light_text(qtbot, lib, themed, monkeypatch):
    monkeypatch.setenv("YOLODESK_THEME", "dark")
    assert apply_theme(themed) == "dark"
    w = shown_window(qtbot, lib)
    assert is_dark(w.palette().color(QPalette.ColorRole.Window))
    for drawn in background_pixels(w):
        assert is_dark(drawn), drawn.name()
    texts, bases = texts_and_fields(w)
    page = background_pixels(w)[1]
    for colour in texts:  # every label, muted ones too, clearly lighter than the page behind it
        assert colour.lightnessF() > page.lightnessF() + 0.3, colour.name()
    for colour in bases:
        assert is_dark(colour), colour.name()


def test_forced_light_gives_a_light_window_with_dark_text(qtbot, lib, themed, monkeypatch):
    monkeypatch.setenv("YOLODESK_THEME", "light")
    assert apply_theme(themed) == "light"
    w = shown_window(qtbot, lib)
    for drawn in background_pixels(w):
        assert not is_dark(drawn), drawn.name()
    texts, _bases = texts_and_fields(w)
    page = background_pixels(w)[1]
    for colour in texts:
        assert colour.lightnessF() < page.lightnessF() - 0.3, colour.name()


def test_the_system_colour_scheme_decides_and_its_palette_where_it_says_nothing():
    light, dark = palette_for("light"), palette_for("dark")
    assert theme_for(Qt.ColorScheme.Dark, light) == "dark"
    assert theme_for(Qt.ColorScheme.Light, dark) == "light"
    assert theme_for(Qt.ColorScheme.Unknown, dark) == "dark"
    assert theme_for(Qt.ColorScheme.Unknown, light) == "light"


def test_without_a_forced_theme_a_dark_system_palette_gives_the_dark_theme(themed, monkeypatch):
    monkeypatch.delenv("YOLODESK_THEME", raising=False)
    themed.setPalette(palette_for("dark"))  # as a dark desktop hands it to the app before start-up
    expected = {Qt.ColorScheme.Dark: "dark", Qt.ColorScheme.Light: "light"}.get(
        QGuiApplication.styleHints().colorScheme(), "dark")
    assert chosen_theme() == expected
    monkeypatch.setenv("YOLODESK_THEME", "light")  # the variable wins over the system
    assert chosen_theme() == "light"


COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)|(?<=[:\s])[a-z]+(?=\s*[;}])")


def light_colours(text: str) -> list[str]:
    """Colour literals in a stylesheet that are light and mostly opaque (transparent and roles excluded)."""
    found = []
    for literal in COLOUR.findall(re.sub(r"/\*.*?\*/", "", text, flags=re.S)):
        if literal.startswith("rgb"):
            parts = [float(p) for p in literal[literal.index("(") + 1:-1].split(",")]
            colour = QColor.fromRgbF(*(c / 255 for c in parts[:3]), parts[3] if len(parts) > 3 else 1.0)
        elif literal.startswith("#") or QColor.isValidColorName(literal):
            if literal in ("transparent", "none", "bold", "solid", "dashed", "left"):
                continue
            colour = QColor(literal)
        else:
            continue
        if colour.isValid() and colour.lightnessF() > 0.6 and colour.alphaF() > 0.3:
            found.append(literal)
    return found


def test_the_scan_finds_light_colours_when_they_are_there():
    sample = "QWidget { background: #ffffff; color: white; border: 1px solid rgba(240, 240, 240, 0.9); }"
    assert sorted(light_colours(sample)) == sorted(["#ffffff", "white", "rgba(240, 240, 240, 0.9)"])
    assert light_colours("QWidget { background: palette(base); color: #111827; }") == []


def test_no_light_colour_is_hard_coded_in_the_stylesheets():
    sheets = sorted((resources_dir() / "styles").glob("*.qss"))
    assert sheets
    for sheet in sheets:
        assert light_colours(sheet.read_text(encoding="utf-8")) == [], sheet.name


@pytest.mark.parametrize("scale", [1.5, 2.0])
def test_icons_are_drawn_at_the_screen_scale_not_scaled_up(qapp, scale):
    for icon in (dot_icon("#16a34a"), svg_icon("yolodesk")):
        assert not icon.isNull()
        pixmap = icon.pixmap(QSize(16, 16), scale)
        assert pixmap.width() == round(16 * scale) and pixmap.devicePixelRatio() == pytest.approx(scale)


def test_the_sidebar_model_dots_are_sharp_at_200_percent(qtbot, lib, checkpoints):
    folder, _manifest = checkpoints
    lib.import_checkpoint(folder / "detect_yolo26n.pt")
    w = shown_window(qtbot, lib)
    qtbot.waitUntil(lambda: w.sidebar.models.count() == 1, timeout=10000)
    pixmap = w.sidebar.models.item(0).icon().pixmap(QSize(12, 12), 2.0)
    assert (pixmap.width(), pixmap.devicePixelRatio()) == (24, 2.0)


def test_charts_and_badges_follow_the_dark_theme(qtbot, themed, monkeypatch):
    """pyqtgraph draws its own background: the training charts and meters take the palette's, not white; a badge's
    text is lightened on a dark window so it stays readable on its tint."""
    from app.widgets.badge import Badge
    from app.widgets.system_meters import SystemMeters
    from app.widgets.train_charts import Chart

    monkeypatch.setenv("YOLODESK_THEME", "dark")
    apply_theme(themed)
    chart, meters, badge = Chart("loss"), SystemMeters(), Badge("task", "detect")
    for w in (chart, meters, badge):
        qtbot.addWidget(w)
    chart.resize(300, 200)
    chart.show()
    qtbot.waitExposed(chart)
    corner = chart.grab().toImage().pixelColor(5, 5)
    assert is_dark(corner), corner.name()
    assert is_dark(meters.plot.backgroundBrush().color())
    from app.widgets.badge import badge_color

    ink = QColor(badge.styleSheet().split("color: ")[1].split(";")[0])
    base = QColor(badge_color("task", "detect"))
    assert ink.lightness() > base.lightness(), (ink.name(), base.name())  # lighter than its tint's colour, not darker
