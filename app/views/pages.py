"""The window's side pages (Workers, Trash, Datasets, …): each is a sidebar link and a page made on first use.

A page is any QWidget; the window calls its optional ``refresh()`` each time it is shown and its optional
``on_changes(changes)`` when the library says what changed (see :class:`app.qt.library_changes.Changes`).
To add a page, add one :class:`PageSpec` to :data:`PAGES`; its factory gets the main window (``window.lib``,
``window.ops``, ``window.jobs``, ``window.open_model`` …) and returns the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.views.main_window import MainWindow


@dataclass(frozen=True)
class PageSpec:
    """One side page: ``key`` names it (``window.show_page(key)``), ``link`` is the sidebar's text."""

    key: str
    link: str
    tooltip: str
    factory: Callable[[MainWindow], QWidget]


def _workers(window: MainWindow) -> QWidget:
    from app.views.workers_page import WorkersPage

    page = WorkersPage(window.lib, window.ops)
    page.workersChanged.connect(window._on_workers_changed)
    return page


def _trash(window: MainWindow) -> QWidget:
    from app.views.trash_page import TrashPage

    return TrashPage(window.lib, window.ops, window.statusBar().showMessage)


def _datasets(window: MainWindow) -> QWidget:
    from app.views.datasets_page import DatasetsPage

    return DatasetsPage(window.lib, window.ops, window.open_model)


def _compare(window: MainWindow) -> QWidget:
    from app.views.compare_page import ComparePage

    return ComparePage(window.lib, window.ops)


PAGES: list[PageSpec] = [
    PageSpec("workers", "⚙  Workers", "GPU boxes reached over SSH, for trainings and exports", _workers),
    PageSpec("datasets", "▦  Datasets", "Data sets you train on: their images, labels, classes and models",
             _datasets),
    PageSpec("trash", "♻  Trash", "Models moved to the trash: restore them, or delete them for ever", _trash),
    PageSpec("compare", "⇄  Compare", "2–6 models side by side: select them in a project's table, then Compare",
             _compare),
]


class SidePages:
    """The side pages of one window, made on first use and added to its stack."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._made: dict[str, QWidget] = {}

    def get(self, key: str) -> QWidget:
        """The page named ``key``, made (and added to the window's stack) the first time."""
        if key not in self._made:
            spec = next(s for s in PAGES if s.key == key)
            page = spec.factory(self._window)
            self._window.stack.addWidget(page)
            self._made[key] = page
        return self._made[key]

    def made(self, key: str) -> QWidget | None:
        """The page if it was made already, else None (nothing is made)."""
        return self._made.get(key)

    def show(self, key: str) -> QWidget:
        """Make (if needed), refresh and show the page named ``key``."""
        page = self.get(key)
        _call(page, "refresh")
        self._window.stack.setCurrentWidget(page)
        return page

    def on_changes(self, changes: Any) -> None:  # noqa: ANN401 (app.qt.library_changes.Changes)
        """Tell every made page what changed in the library."""
        for page in self._made.values():
            _call(page, "on_changes", changes)


def _call(page: QWidget, name: str, *args: Any) -> None:  # noqa: ANN401
    method = getattr(page, name, None)
    if callable(method):
        method(*args)
