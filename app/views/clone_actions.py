"""Clone or move a model to another project from the window: the model page's *Clone…*, the project table's
context menu, and dragging a model (from the table or the sidebar's model list) onto a project in the sidebar.

A drop clones, as the hosted platform does; Shift-drop moves. The work runs on the library thread
(:func:`app.library.clone.clone_model`); the status bar then says "Cloned “X” to “P”" with an *Open* button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QInputDialog, QMainWindow, QMenu,
)

from app.library.records import ModelRecord, ProjectRecord
from app.library.untrusted import printable
from app.qt.model_table import RECORD_ROLE
from app.views.sidebar import ID_ROLE
from app.widgets.status_notice import StatusNotice

if TYPE_CHECKING:
    from app.views.main_window import MainWindow
    from app.views.model_page import ModelPage

MODEL_MIME = "application/x-yolodesk-model"  # a model id, dragged inside the window
NOTICE_SECONDS = 12
DROP_HINT = "Drag a model onto a project in the sidebar to clone it there (Shift-drop moves it)"


def model_mime(model_id: str) -> QMimeData:
    """What a dragged model carries: its id (in the window's own type, so file drops never mistake it)."""
    mime = QMimeData()
    mime.setData(MODEL_MIME, QByteArray(model_id.encode()))
    return mime


def dragged_model_id(mime: QMimeData | None) -> str | None:
    if mime is None or not mime.hasFormat(MODEL_MIME):
        return None
    return bytes(mime.data(MODEL_MIME).data()).decode(errors="replace") or None


class CloneNotice(StatusNotice):
    """"Cloned “X” to “P” — Open" in the status bar for a few seconds."""

    openRequested = Signal(str)  # the resulting model's id

    def __init__(self, window: QMainWindow, seconds: float = NOTICE_SECONDS) -> None:
        super().__init__(window, "Open", "Open the model in its new project", seconds)

    def offer(self, text: str, model_id: str) -> None:
        """Show ``text`` and an Open button for the model ``model_id``."""
        self.show_offer(text, model_id)

    def _take(self, model_id: str) -> None:
        self.openRequested.emit(model_id)


class _DragSource(QObject):
    """Starts a model drag from an item view's viewport (the project table, the sidebar's model list)."""

    def __init__(self, view: QAbstractItemView, model_at: Callable[[QPoint], str | None]) -> None:
        super().__init__(view)
        self.view = view
        self._model_at = model_at
        self._press: QPoint | None = None
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            left = event.button() == Qt.MouseButton.LeftButton
            self._press = event.position().toPoint() if left else None
        elif event.type() == QEvent.Type.MouseButtonRelease:
            self._press = None
        elif event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent) and self._press is not None:
            if (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance():
                model_id = self._model_at(self._press)
                self._press = None
                if model_id:
                    drag = QDrag(self.view)
                    drag.setMimeData(model_mime(model_id))
                    drag.exec(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, Qt.DropAction.CopyAction)
                    return True
        return False


class CloneActions(QObject):
    """Carries out clone and move requests of the window on its library thread and reports them."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.notice = CloneNotice(window)
        self.notice.openRequested.connect(self._on_notice_open_requested)
        self.last: ModelRecord | None = None  # the model the last clone or move made (what Open opens)
        table = window.project_page.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_table_context_menu)
        table.setToolTip(DROP_HINT)
        self._sources = [_DragSource(table, self._table_model_at),
                         _DragSource(window.sidebar.models, self._sidebar_model_at)]
        window.sidebar.models.setToolTip(DROP_HINT)
        self._drop_target = window.sidebar.projects.viewport()
        self._drop_target.setAcceptDrops(True)
        self._drop_target.installEventFilter(self)

    def connect_page(self, page: ModelPage) -> None:
        """The model page's *Clone…* button (the page is made on first use)."""
        page.clone_button.clicked.connect(self._on_clone_button_clicked)

    # ------------------------------------------------------------------ requests
    def clone(self, model_id: str, project_id: int, move: bool = False) -> None:
        """Clone (or move) ``model_id`` into ``project_id`` on the library thread; say so in the status bar."""
        from app.library.clone import clone_model

        lib = self.window.lib
        project = self._project(project_id)
        original = self._model(model_id)
        verb = "Moved" if move else "Cloned"
        what = f"{'Moving' if move else 'Cloning'} “{printable(original.name if original else model_id)}”"

        def done(m: ModelRecord) -> None:
            self.last = m
            self.window.statusBar().clearMessage()  # the "Cloning…" line: the notice says how it ended
            name = printable(original.name) if original else printable(m.name)
            self.notice.offer(f"{verb} “{name}” to “{printable(m.project)}” —", m.id)

        def failed(e: Exception) -> None:
            self.notice.withdraw()
            self.window.statusBar().showMessage(f"Not {verb.lower()}: {printable(str(e))}", 12000)

        self.window.statusBar().showMessage(f"{what} to “{printable(project.name if project else '?')}”…", 5000)
        self.window.ops.submit(lambda: clone_model(lib, model_id, project_id, move=move), done, failed, what)

    def _model(self, model_id: str) -> ModelRecord | None:
        shown = self.window.shown_model
        if shown is not None and shown.id == model_id:
            return shown
        return next((m for m in self.window.all_models if m.id == model_id), None)

    def _project(self, project_id: int) -> ProjectRecord | None:
        return next((p for p in self.window.projects if p.id == project_id), None)

    def _other_projects(self, m: ModelRecord) -> list[ProjectRecord]:
        return [p for p in self.window.projects if p.id != m.project_id]

    # ------------------------------------------------------------------ the model page
    def _on_clone_button_clicked(self) -> None:
        m = self.window.shown_model
        if m is None:
            return
        others = self._other_projects(m)
        if not others:
            self.window.statusBar().showMessage("Make another project first (+ beside PROJECTS in the sidebar)", 8000)
            return
        names = [p.name for p in others]
        name, ok = QInputDialog.getItem(self.window, "Clone model", f"Clone “{printable(m.name)}” to the project:",
                                        names, 0, False)
        if ok and name in names:
            self.clone(m.id, others[names.index(name)].id)

    # ------------------------------------------------------------------ the project table's context menu
    def table_menu(self, m: ModelRecord) -> QMenu:
        """The context menu of a model row: Open, Clone to project ▸, Move to project ▸."""
        menu = QMenu(self.window.project_page.table)
        menu.addAction("Open", lambda: self.window.open_model(m.id))
        others = self._other_projects(m)
        for title, move in (("Clone to project", False), ("Move to project", True)):
            sub = menu.addMenu(title)
            sub.setEnabled(bool(others))
            for p in others:
                sub.addAction(printable(p.name), lambda pid=p.id, mv=move: self.clone(m.id, pid, mv))
        return menu

    def _on_table_context_menu(self, pos: QPoint) -> None:
        table = self.window.project_page.table
        index = table.indexAt(pos)
        m = self.window.project_page.proxy.data(index, RECORD_ROLE) if index.isValid() else None
        if isinstance(m, ModelRecord):
            menu = self.table_menu(m)
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # popup, not exec: no nested event loop
            menu.popup(table.viewport().mapToGlobal(pos))

    def _table_model_at(self, pos: QPoint) -> str | None:
        index = self.window.project_page.table.indexAt(pos)
        m = self.window.project_page.proxy.data(index, RECORD_ROLE) if index.isValid() else None
        return m.id if isinstance(m, ModelRecord) else None

    def _sidebar_model_at(self, pos: QPoint) -> str | None:
        item = self.window.sidebar.models.itemAt(pos)
        return item.data(ID_ROLE) if item is not None else None

    # ------------------------------------------------------------------ drops on the sidebar's projects
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        t = event.type()
        if t not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        assert isinstance(event, (QDragMoveEvent, QDropEvent))
        model_id = dragged_model_id(event.mimeData())
        if model_id is None:
            return False  # files: the window's import drop takes them
        target = self._drop_project(event, model_id)
        move = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if target is None:
            if t == QEvent.Type.DragEnter:
                event.acceptProposedAction()  # keep receiving moves: the pointer may reach another project
            else:
                event.ignore()
            return True
        event.setDropAction(Qt.DropAction.MoveAction if move else Qt.DropAction.CopyAction)
        event.accept()
        if t == QEvent.Type.Drop:
            self.clone(model_id, target.id, move)
        else:
            verb = "move" if move else "clone"
            self.window.statusBar().showMessage(f"Drop to {verb} it to “{printable(target.name)}”"
                                                + ("" if move else " (hold Shift to move it instead)"), 3000)
        return True

    def _drop_project(self, event: Any, model_id: str) -> ProjectRecord | None:  # noqa: ANN401 (a drag event)
        item = self.window.sidebar.projects.itemAt(event.position().toPoint())
        if item is None:
            return None
        project = self._project(item.data(ID_ROLE))
        m = self._model(model_id)
        return None if project is None or (m is not None and m.project_id == project.id) else project

    def _on_notice_open_requested(self, model_id: str) -> None:
        m = self.last if self.last is not None and self.last.id == model_id else self._model(model_id)
        if m is not None:
            self.window.current_project_id = m.project_id
        self.window.open_model(model_id)
        self.window.refresh()
