"""The look: a light or a dark palette chosen from the system (or YOLODESK_THEME), the stylesheet, sharp icons.

The stylesheet (resources/styles/app.qss) names palette roles, never light colours, so one sheet
serves both variants; the only colours written down are the two palettes below.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QDir, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from app.paths import resources_dir

THEMES = ("light", "dark")
ACCENT = "#2563eb"

_R = QPalette.ColorRole
# role -> (light, dark); the roles app.qss names through palette(...)
_ROLES: dict[QPalette.ColorRole, tuple[str, str]] = {
    _R.Window: ("#f8fafc", "#1a1d23"),
    _R.WindowText: ("#111827", "#e5e7eb"),
    _R.Base: ("#ffffff", "#22262e"),
    _R.AlternateBase: ("#f1f5f9", "#1f232a"),
    _R.Text: ("#111827", "#e5e7eb"),
    _R.PlaceholderText: ("#6b7280", "#9ca3af"),
    _R.Button: ("#ffffff", "#2a2f38"),
    _R.ButtonText: ("#111827", "#e5e7eb"),
    _R.BrightText: ("#ffffff", "#ffffff"),
    _R.Light: ("#ffffff", "#3a404b"),
    _R.Midlight: ("#e5e7eb", "#323843"),
    _R.Mid: ("#cbd5e1", "#4a5260"),
    _R.Dark: ("#94a3b8", "#6b7483"),
    _R.Shadow: ("#64748b", "#0b0d10"),
    _R.Highlight: (ACCENT, "#3b82f6"),
    _R.HighlightedText: ("#ffffff", "#ffffff"),
    _R.Link: ("#1d4ed8", "#7aa7ff"),
    _R.LinkVisited: ("#6d28d9", "#b69cff"),
    _R.ToolTipBase: ("#111827", "#f3f4f6"),
    _R.ToolTipText: ("#f9fafb", "#111827"),
}


def chosen_theme() -> str:
    """``"dark"`` or ``"light"``: YOLODESK_THEME when set to one of them, else what the system uses."""
    forced = os.environ.get("YOLODESK_THEME", "").strip().lower()
    if forced in THEMES:
        return forced
    app = QGuiApplication.instance()
    if app is None:
        return "light"
    return theme_for(app.styleHints().colorScheme(), app.palette())


def theme_for(scheme: Qt.ColorScheme, system_palette: QPalette) -> str:
    """The theme for the system's colour scheme (Qt 6.5+); where the platform does not say, its palette decides."""
    if scheme == Qt.ColorScheme.Dark:
        return "dark"
    if scheme == Qt.ColorScheme.Light:
        return "light"
    return "dark" if is_dark(system_palette.color(QPalette.ColorRole.Window)) else "light"


def palette_for(theme: str) -> QPalette:
    """The full palette of ``theme`` (disabled text dimmed in both)."""
    column = THEMES.index(theme)
    palette = QPalette()
    for role, colours in _ROLES.items():
        palette.setColor(role, QColor(colours[column]))
    dimmed = QColor(_ROLES[_R.Dark][column])
    for role in (_R.WindowText, _R.Text, _R.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, dimmed)
    return palette


def stylesheet() -> str:
    """The application stylesheet (palette roles only: it fits either theme)."""
    return (resources_dir() / "styles" / "app.qss").read_text(encoding="utf-8")


def apply_theme(app: QApplication, theme: str | None = None) -> str:
    """Fusion style, the chosen palette and the stylesheet on ``app``; the theme applied."""
    theme = theme or chosen_theme()
    app.setStyle("Fusion")  # Fusion draws with the palette everywhere (native styles ignore parts of it)
    QDir.addSearchPath("yolodesk-icons", str(resources_dir() / "icons"))  # app.qss's url(yolodesk-icons:…)
    app.setPalette(palette_for(theme))
    app.setStyleSheet(stylesheet())
    app.setProperty("yolodeskTheme", theme)
    if not app.property("yolodeskFollowsSystem"):  # the desktop switching light/dark switches the window too
        app.setProperty("yolodeskFollowsSystem", True)
        app.styleHints().colorSchemeChanged.connect(lambda scheme: _follow_system(app, scheme))
    return theme


def _follow_system(app: QApplication, scheme: Qt.ColorScheme) -> None:
    if os.environ.get("YOLODESK_THEME", "").strip().lower() not in THEMES:
        apply_theme(app, theme_for(scheme, app.palette()))


def is_dark(color: QColor) -> bool:
    """Whether ``color`` is a dark one (HSL lightness under 0.4)."""
    return color.lightnessF() < 0.4


class _DotEngine(QIconEngine):
    """A filled disc drawn at the pixel size asked for, so it is sharp at any scale."""

    def __init__(self, color: str) -> None:
        super().__init__()
        self.color = color

    def paint(self, painter: QPainter, rect: QRectF, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(self.color))
        painter.setPen(Qt.PenStyle.NoPen)
        r = min(rect.width(), rect.height()) / 3
        painter.drawEllipse(QPointF(rect.center()), r, r)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRectF(0, 0, size.width(), size.height()), mode, state)
        painter.end()
        return pm

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:  # noqa: N802
        pm = self.pixmap(QSize(round(size.width() * scale), round(size.height() * scale)), mode, state)
        pm.setDevicePixelRatio(scale)
        return pm

    def clone(self) -> QIconEngine:
        return _DotEngine(self.color)


def dot_icon(color: str) -> QIcon:
    """A coloured status dot that is drawn, not scaled, at 150 % and 200 %."""
    return QIcon(_DotEngine(color))


def svg_icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` as an icon (Qt renders an SVG at the device pixel ratio asked for)."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))
