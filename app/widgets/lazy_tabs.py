"""Tab pages made when first shown or first asked for: a blank placeholder stands in until then.

Building every tab of a page at once stalled the GUI thread for most of a second; a page nobody opens
need not be built at all. The tab widget must wrap each page in a QScrollArea (see ScrollingTabs):
the made page replaces the placeholder inside it, so the tab widget's own index and title never move.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QScrollArea, QTabWidget, QWidget


class LazyTabs:
    """Adds named tabs to ``tabs`` whose pages are made by a maker on first show or first :meth:`get`."""

    def __init__(self, tabs: QTabWidget) -> None:
        self.tabs = tabs
        self._makers: dict[str, Callable[[], QWidget]] = {}
        self._placeholders: dict[str, QWidget] = {}
        self._made: dict[str, QWidget] = {}
        self._waiting: dict[str, list[Callable[[QWidget], None]]] = {}
        tabs.currentChanged.connect(self._on_tabs_current_changed)

    def add(self, name: str, title: str, make: Callable[[], QWidget]) -> int:
        """A tab titled ``title`` whose page ``make()`` builds when it is first shown or asked for."""
        placeholder = QWidget()
        placeholder.setObjectName(f"lazy-{name}")
        self._makers[name] = make
        self._placeholders[name] = placeholder
        return self.tabs.addTab(placeholder, title)

    def made(self, name: str) -> QWidget | None:
        """The page if it has been made, else None (for work that only concerns a page that exists)."""
        return self._made.get(name)

    def names(self) -> list[str]:
        """Every lazy tab's name, in the order they were added."""
        return list(self._makers)

    def get(self, name: str) -> QWidget:
        """The page, made now if it was not yet."""
        if name in self._made:
            return self._made[name]
        placeholder = self._placeholders.pop(name)
        index = self.tabs.indexOf(placeholder)
        area = QTabWidget.widget(self.tabs, index)  # the raw page: the scroll area around the placeholder
        if not isinstance(area, QScrollArea):
            raise TypeError("LazyTabs needs a tab widget that wraps each page in a QScrollArea")
        page = self._makers[name]()
        self._made[name] = page  # before the waiters run: one of them may ask for it again
        area.takeWidget()
        area.setWidget(page)
        placeholder.deleteLater()
        for callback in self._waiting.pop(name, []):
            callback(page)
        return page

    def when_made(self, name: str, callback: Callable[[QWidget], None]) -> None:
        """Call ``callback(page)`` now if the page exists, else right after it is made."""
        if name in self._made:
            callback(self._made[name])
        else:
            self._waiting.setdefault(name, []).append(callback)

    def _on_tabs_current_changed(self, index: int) -> None:
        area = QTabWidget.widget(self.tabs, index)
        shown = area.widget() if isinstance(area, QScrollArea) else area
        name = next((n for n, p in self._placeholders.items() if p is shown), None)
        if name is not None:
            self.get(name)
