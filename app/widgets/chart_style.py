"""Chart colours from the application's palette, so pyqtgraph charts follow the light or dark theme."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QPalette


def chart_colors() -> tuple[str, str, str]:
    """``(background, text, axis)`` as hex colours: the palette's Base, its Text, and a muted axis colour."""
    pal = QGuiApplication.palette()
    base = pal.color(QPalette.ColorRole.Base)
    text = pal.color(QPalette.ColorRole.Text)
    axis = pal.color(QPalette.ColorRole.PlaceholderText)
    return base.name(), text.name(), axis.name()


def style_plot(plot_item, title: str) -> None:  # type: ignore[no-untyped-def]
    """Title and axes of a pyqtgraph ``PlotItem`` in the palette's colours."""
    _bg, text, axis = chart_colors()
    plot_item.setTitle(title, color=text, size="10pt")
    for name in ("left", "bottom"):
        ax = plot_item.getAxis(name)
        ax.setPen(axis)
        ax.setTextPen(text)
