"""The left sidebar: projects (create, rename, delete empty) and the selected project's models."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QToolButton, QVBoxLayout, QWidget,
)

from app.library.records import ModelRecord, ProjectRecord
from app.views.theme import dot_icon
from app.widgets.badge import badge_color

ID_ROLE = Qt.ItemDataRole.UserRole


def _dot(color: str) -> QIcon:
    return dot_icon(color)  # drawn at the screen's scale: sharp at 150 % and 200 %


class Sidebar(QWidget):
    """Projects on top, the current project's models below; both accept dropped files (via the window)."""

    projectSelected = Signal(int)
    modelSelected = Signal(str)
    createProjectRequested = Signal()
    renameProjectRequested = Signal(int)
    deleteProjectRequested = Signal(int)
    pageRequested = Signal(str)  # a side page's key (app/views/pages.py)
    jobsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setMinimumWidth(180)  # the splitter must not squeeze it into a strip with a scrollbar (150 % scale)
        self.projects = QListWidget()
        self.projects.setObjectName("projectList")
        self.projects.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.projects.customContextMenuRequested.connect(self._on_projects_context_menu)
        self.projects.currentItemChanged.connect(self._on_projects_current_changed)
        self.projects.itemDoubleClicked.connect(self._on_projects_double_clicked)
        add = QToolButton()
        add.setText("+")
        add.setToolTip("New project")
        add.setObjectName("sidebarAdd")
        add.clicked.connect(self.createProjectRequested.emit)
        self.models = QListWidget()
        self.models.setObjectName("modelList")
        self.models.itemClicked.connect(self._on_models_item_clicked)
        for names in (self.projects, self.models):  # long names are elided (full name in the tooltip), never scrolled
            names.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            names.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.models_title = QLabel("MODELS")
        self.models_title.setObjectName("sidebarTitle")

        head = QHBoxLayout()
        t = QLabel("PROJECTS")
        t.setObjectName("sidebarTitle")
        head.addWidget(t)
        head.addStretch(1)
        head.addWidget(add)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 12, 10, 10)
        lay.addLayout(head)
        lay.addWidget(self.projects, 2)
        lay.addSpacing(6)
        lay.addWidget(self.models_title)
        lay.addWidget(self.models, 5)
        self.links: dict[str, QToolButton] = {}  # the side pages' links (app/views/pages.py), added by the window
        self._links = QVBoxLayout()
        self._links.setContentsMargins(0, 0, 0, 0)
        self._links.setSpacing(0)
        lay.addLayout(self._links)
        self.jobs_button = QToolButton()
        self.jobs_button.setObjectName("sidebarLink")
        self.jobs_button.setText("☰  Jobs")
        self.jobs_button.setToolTip("Every training and export, local and remote (Ctrl+J)")
        self.jobs_button.clicked.connect(self.jobsRequested.emit)
        lay.addWidget(self.jobs_button)
        self._updating = False

    def add_link(self, key: str, text: str, tooltip: str) -> QToolButton:
        """A link to a side page; clicking it emits ``pageRequested(key)``."""
        button = QToolButton()
        button.setObjectName("sidebarLink")
        button.setText(text)
        button.setToolTip(tooltip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.clicked.connect(lambda: self.pageRequested.emit(key))
        self._links.addWidget(button)
        self.links[key] = button
        return button

    @property
    def workers_button(self) -> QToolButton:
        return self.links["workers"]

    def set_projects(self, projects: list[ProjectRecord], current_id: int) -> None:
        self._updating = True
        self.projects.clear()
        for p in projects:
            item = QListWidgetItem(f"{p.name}  ·  {p.model_count}")
            item.setData(ID_ROLE, p.id)
            item.setToolTip(f"{p.name}: {p.model_count} model(s)\nDouble-click to rename; right-click for more\n"
                            "Drop a model here to clone it into this project (Shift-drop moves it)")
            self.projects.addItem(item)
            if p.id == current_id:
                self.projects.setCurrentItem(item)
        self._updating = False

    def set_models(self, models: list[ModelRecord], current_id: str | None = None) -> None:
        self.models.clear()
        self.models_title.setText(f"MODELS · {len(models)}")
        for m in models:
            item = QListWidgetItem(_dot(badge_color("task", m.task or "")), m.name)
            item.setData(ID_ROLE, m.id)
            item.setToolTip(f"{m.architecture or '?'} · {m.task or '?'} · {m.status}")
            self.models.addItem(item)
            if m.id == current_id:
                self.models.setCurrentItem(item)

    def current_project_id(self) -> int | None:
        item = self.projects.currentItem()
        return item.data(ID_ROLE) if item else None

    def _on_projects_current_changed(self, current: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if current is not None and not self._updating:
            self.projectSelected.emit(current.data(ID_ROLE))

    def _on_projects_double_clicked(self, item: QListWidgetItem) -> None:
        self.renameProjectRequested.emit(item.data(ID_ROLE))

    def _on_projects_context_menu(self, pos: QPoint) -> None:
        item = self.projects.itemAt(pos)
        menu = QMenu(self)
        menu.addAction("New project…", self.createProjectRequested.emit)
        if item is not None:
            pid = item.data(ID_ROLE)
            menu.addAction("Rename…", lambda: self.renameProjectRequested.emit(pid))
            menu.addAction("Delete", lambda: self.deleteProjectRequested.emit(pid))
        menu.exec(self.projects.mapToGlobal(pos))

    def _on_models_item_clicked(self, item: QListWidgetItem) -> None:
        self.modelSelected.emit(item.data(ID_ROLE))
