"""The list of files being added: name, state badge, message; hidden when empty."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from app.library.untrusted import printable
from app.qt.import_queue import UploadItem
from app.widgets.badge import Badge


class UploadList(QWidget):
    """Shows every queued, running and finished upload with its state."""

    clearRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[int, tuple[QTreeWidgetItem, Badge]] = {}
        self._title = QLabel("Uploads")
        self._title.setObjectName("sectionTitle")
        clear = QPushButton("Clear finished")
        clear.setObjectName("flat")
        clear.clicked.connect(self._on_clear_clicked)
        head = QHBoxLayout()
        head.addWidget(self._title)
        head.addStretch(1)
        head.addWidget(clear)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "State", "Details"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.tree.setColumnWidth(0, 260)
        self.tree.setColumnWidth(1, 100)
        self.tree.setMaximumHeight(170)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.tree)
        self.setVisible(False)

    def add_item(self, item: UploadItem) -> None:
        row = QTreeWidgetItem([printable(Path(item.path).name), "", printable(item.message)])  # names from disk
        row.setToolTip(0, item.path)
        self.tree.insertTopLevelItem(0, row)
        badge = Badge("upload", item.state)
        self.tree.setItemWidget(row, 1, badge)
        self._rows[item.key] = (row, badge)
        self.setVisible(True)
        self._update_title()

    def update_item(self, item: UploadItem) -> None:
        entry = self._rows.get(item.key)
        if entry is None:
            return
        row, badge = entry
        badge.set_text(item.state)
        row.setText(2, printable(item.message))
        row.setToolTip(2, printable(item.message))
        self._update_title()

    def state_of(self, path: str) -> str | None:
        for row, badge in self._rows.values():
            if row.toolTip(0) == path:
                return badge.text()
        return None

    def remove_finished(self, keys_left: set[int]) -> None:
        for key in [k for k in self._rows if k not in keys_left]:
            row, _ = self._rows.pop(key)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(row))
        self.setVisible(bool(self._rows))
        self._update_title()

    def _update_title(self) -> None:
        states = [b.text() for _, b in self._rows.values()]
        active = sum(s in ("queued", "reading", "copying") for s in states)
        bad = sum(s == "rejected" for s in states)
        parts = [f"{active} in progress" if active else "done"]
        if bad:
            parts.append(f"{bad} rejected")
        self._title.setText(f"Uploads — {', '.join(parts)}")

    def _on_clear_clicked(self) -> None:
        self.clearRequested.emit()
