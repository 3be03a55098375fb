"""Where the Predict tab's pictures come from: files, folders, URLs, videos and cameras, read off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.predict.sources import VIDEO_EXTS
from app.qt.tasks import run_in_background


def _load(path: Path) -> Any:
    from app.predict.sources import load_image

    return load_image(path)


class SourceLoader(QObject):
    """Turns a chosen source into a picture or an opened frame source; the tab predicts on what it hands over."""

    imageRead = Signal(object, str)  # the picture (BGR), its label
    liveOpening = Signal()  # a video or camera is about to open: what runs live stops first
    liveOpened = Signal(object, str)  # the opened frame source, its label
    failed = Signal(object)  # the exception, a sentence for the user
    folderChanged = Signal()  # the folder or the position in it changed (◀ ▶ follow)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder: list[Path] = []
        self.folder_index = 0

    def open_path(self, path: str) -> None:
        """A folder is stepped through, a video runs live, anything else is read as a picture."""
        p = Path(path)
        if p.is_dir():
            self.open_folder(str(p))
        elif p.suffix.lower() in VIDEO_EXTS:
            self.open_video(str(p))
        else:
            self._read(lambda: _load(p), str(p))

    def open_url(self, url: str, on_failure: Callable[[Exception], None]) -> None:
        """Fetch a picture; ``on_failure`` gets the error (the tab restores its status line first)."""
        from app.predict.sources import fetch_url

        run_in_background(lambda: fetch_url(url), lambda img: self.imageRead.emit(img, url), on_failure)

    def open_folder(self, folder: str) -> None:
        """List a folder's pictures (off the GUI thread: a big folder, a slow disk), then show the first."""
        from app.predict.sources import folder_images

        def listed(images: list[Path]) -> None:
            self.folder, self.folder_index = images, 0
            self.folderChanged.emit()
            self.step(0)

        run_in_background(lambda: folder_images(folder), listed, self.failed.emit)

    def step(self, delta: int) -> None:
        """Read the picture ``delta`` places on in the open folder (wrapping round)."""
        if not self.folder:
            return
        self.folder_index = (self.folder_index + delta) % len(self.folder)
        self.folderChanged.emit()
        path = self.folder[self.folder_index]
        self._read(lambda: _load(path), f"{path}  ({self.folder_index + 1}/{len(self.folder)})")

    def open_video(self, path: str) -> None:
        """Run a video file live."""
        self._open_live(path, Path(path).name)

    def open_camera(self, index: int) -> None:
        """Run a camera live."""
        self._open_live(index, f"camera {index}")

    def _open_live(self, what: str | int, label: str) -> None:
        from app.predict.sources import FrameSource

        self.liveOpening.emit()
        # a camera can take a second to open: off the GUI thread too
        run_in_background(lambda: FrameSource(what), lambda source: self.liveOpened.emit(source, label),
                          self.failed.emit)

    def _read(self, read: Callable[[], Any], label: str) -> None:
        run_in_background(read, lambda img: self.imageRead.emit(img, label), self.failed.emit)
