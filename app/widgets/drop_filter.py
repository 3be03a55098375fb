"""Turn any widget into a drop target for local files and folders."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QWidget


def local_paths(event: QDropEvent | QDragEnterEvent) -> list[str]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]


class FileDropFilter(QObject):
    """Event filter: accepts drags carrying local files and emits ``filesDropped`` on drop."""

    filesDropped = Signal(list)
    dragActive = Signal(bool)

    def install(self, widget: QWidget) -> None:
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        t = event.type()
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if local_paths(event):  # type: ignore[arg-type]
                event.acceptProposedAction()  # type: ignore[attr-defined]
                if t == QEvent.Type.DragEnter:
                    self.dragActive.emit(True)
                return True
            return False
        if t == QEvent.Type.DragLeave:
            self.dragActive.emit(False)
            return False
        if t == QEvent.Type.Drop:
            paths = local_paths(event)  # type: ignore[arg-type]
            self.dragActive.emit(False)
            if paths:
                event.acceptProposedAction()  # type: ignore[attr-defined]
                self.filesDropped.emit(paths)
                return True
        return False
