"""A project's page: its models in a sortable table, Add models…, and the upload list."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
    QStackedWidget, QStyledItemDelegate, QStyleOptionViewItem, QTableView, QVBoxLayout, QWidget,
)

from app.library.records import ModelRecord, ProjectRecord
from app.views.compare.project_compare import CompareAction, extending_selection
from app.qt.model_table import COLUMNS, RECORD_ROLE, SORT_ROLE, ModelTableModel
from app.widgets.badge import badge_color, paint_badge
from app.widgets.upload_list import UploadList


class BadgeDelegate(QStyledItemDelegate):
    """Paints the Task and Status columns as coloured pills."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = kind

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        opt.widget.style().drawControl(opt.widget.style().ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        paint_badge(painter, option.rect, text, badge_color(self._kind, text))


class ModelFilterProxy(QSortFilterProxyModel):
    """The filter text over every column, and the visibility combo (None: all)."""

    visibility: str | None = None

    def set_visibility(self, visibility: str | None) -> None:
        self.beginFilterChange()
        self.visibility = visibility
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if self.visibility is not None:
            rec = self.sourceModel().index(row, 0, parent).data(RECORD_ROLE)
            if isinstance(rec, ModelRecord) and rec.visibility != self.visibility:
                return False
        return super().filterAcceptsRow(row, parent)


class ProjectPage(QWidget):
    """Header, model table and uploads of the selected project."""

    modelActivated = Signal(str)
    addFilesRequested = Signal(list)
    newModelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: ProjectRecord | None = None
        self.title = QLabel("Project")
        self.title.setObjectName("pageTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter models…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(240)
        self.visibility_filter = QComboBox()
        self.visibility_filter.setToolTip("Show all models, or only the private or the public ones")
        for text, value in (("All visibilities", None), ("Private", "private"), ("Public", "public")):
            self.visibility_filter.addItem(text, value)
        self.add_button = QPushButton("Add models…")
        self.add_button.setObjectName("primary")
        self.add_button.setToolTip("Choose .pt files to add (or drop files and folders anywhere on the window)")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.new_button = QPushButton("New Model")
        self.new_button.setToolTip("Train a new model in this project")
        self.new_button.clicked.connect(self.newModelRequested.emit)

        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles)
        head.addStretch(1)
        head.addWidget(self.search)
        head.addWidget(self.visibility_filter)
        head.addWidget(self.new_button)
        head.addWidget(self.add_button)

        self.table_model = ModelTableModel(self)
        self.proxy = ModelFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.visibility_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_visibility(self.visibility_filter.currentData()))
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("Added"), Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # Ctrl/Shift: for Compare
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setItemDelegateForColumn(COLUMNS.index("Task"), BadgeDelegate("task", self.table))
        self.table.setItemDelegateForColumn(COLUMNS.index("Status"), BadgeDelegate("status", self.table))
        # Sized to their contents so Name (the stretching column) keeps ~170 px at 1280 wide instead of eliding
        for col, width in (("Task", 84), ("Architecture", 110), ("Status", 96), ("Visibility", 80), ("Key metric", 170),
                           ("Params", 72), ("Size", 72), ("Added", 124)):
            self.table.setColumnWidth(COLUMNS.index(col), width)
        self.table.activated.connect(self._on_table_activated)
        self.table.clicked.connect(self._on_table_activated)
        self.compare = CompareAction(self.table, self.proxy, self)  # 2–6 selected models → the Compare page
        head.insertWidget(head.indexOf(self.new_button), self.compare.button)

        self.empty = QLabel(
            "<div style='font-size:15pt; font-weight:600'>No models yet</div>"
            "<p>Drop <b>.pt</b> files or a <b>runs/…/weights</b> folder anywhere on this window,<br>"
            "or press <b>Add models…</b>. Up to three files are read at once.</p>"
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("emptyState")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        self.uploads = UploadList()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 16, 20, 12)
        lay.addLayout(head)
        lay.addSpacing(8)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.uploads)

    def show_project(self, project: ProjectRecord, models: list[ModelRecord]) -> None:
        self.project = project
        self.title.setText(project.name)
        n = len(models)
        self.subtitle.setText(f"{n} model{'s' if n != 1 else ''}")
        self.table_model.set_records(models)
        self.stack.setCurrentWidget(self.table if models else self.empty)

    def selected_model(self) -> ModelRecord | None:
        """The table's selected model, if any (the Delete shortcut's target)."""
        rows = self.table.selectionModel().selectedRows()
        rec = self.proxy.data(rows[0], RECORD_ROLE) if rows else None
        return rec if isinstance(rec, ModelRecord) else None

    def _on_table_activated(self, index: QModelIndex) -> None:
        if extending_selection():
            return  # a Ctrl- or Shift-click selects models to compare; a plain click opens one
        rec = self.proxy.data(index, RECORD_ROLE)
        if isinstance(rec, ModelRecord):
            self.modelActivated.emit(rec.id)

    def _on_add_clicked(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add models", "", "PyTorch checkpoints (*.pt);;All files (*)")
        if files:
            self.addFilesRequested.emit(files)
