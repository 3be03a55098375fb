"""The Predict tab's row of sources: an image, a folder (stepped with ◀ ▶), a URL, a video, a camera."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QToolButton, QWidget

from app.predict.sources import IMAGE_EXTS, VIDEO_EXTS, Camera

LOOKING_FOR_CAMERAS = "finding cameras…"
NO_CAMERA = "No camera found"


class SourceBar(QWidget):
    """Asks for a source (file dialogs, the URL field, the camera list) and says what was chosen; reads nothing."""

    pathChosen = Signal(str)  # an image file
    folderChosen = Signal(str)
    videoChosen = Signal(str)
    urlEntered = Signal(str)
    stepRequested = Signal(int)  # -1 or +1 through the open folder
    liveClicked = Signal()  # start the chosen camera, or stop what runs live

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.prev_button = QToolButton()
        self.prev_button.setText("◀")
        self.prev_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button = QToolButton()
        self.next_button.setText("▶")
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        self.url = QLineEdit()
        self.url.setPlaceholderText("image URL, Enter to fetch")
        self.url.setMinimumWidth(120)
        self.url.returnPressed.connect(self._on_url_return_pressed)
        self.video_button = QPushButton("Video…")
        self.video_button.clicked.connect(self._on_video_clicked)
        self.camera = QComboBox()
        self.camera.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.camera.setMinimumContentsLength(16)  # its notes fit; a long camera name must not widen the window
        self._camera_note(LOOKING_FOR_CAMERAS)  # listed with the model's backends, when the tab is first seen
        self.live_button = QPushButton("Start camera")
        self.live_button.setObjectName("primary")
        self.live_button.clicked.connect(self.liveClicked.emit)
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)  # laid out as a row of the tab, not a framed box
        for w in (self.open_button, self.folder_button, self.prev_button, self.next_button):
            bar.addWidget(w)
        bar.addWidget(self.url, 1)
        for w in (self.video_button, self.camera, self.live_button):
            bar.addWidget(w)

    def camera_index(self) -> int | None:
        """The camera chosen in the list, or None when none was found."""
        index = self.camera.currentData()
        return None if index is None else int(index)

    def set_cameras(self, cameras: list[Camera]) -> None:
        """List the cameras found on this machine (or say that there is none)."""
        if not cameras:
            self._camera_note(NO_CAMERA)
            return
        self.camera.clear()
        self.camera.setEnabled(True)
        for cam in cameras:
            self.camera.addItem(f"{cam.index}: {cam.name}", cam.index)

    def _camera_note(self, text: str) -> None:
        """One disabled entry in place of the cameras: a blank list reads as broken, a note says why it is empty."""
        self.camera.clear()
        self.camera.addItem(text, None)
        self.camera.model().item(0).setEnabled(False)  # not a choice: Start camera stays off
        self.camera.setEnabled(False)

    def update_buttons(self, folder_size: int, live: bool) -> None:
        """◀ ▶ only for a folder of several pictures; the live button when something can start or stop."""
        several = folder_size > 1
        self.prev_button.setEnabled(several)
        self.next_button.setEnabled(several)
        self.live_button.setEnabled(live or self.camera.currentData() is not None)

    def show_live(self, live: bool) -> None:
        """The live button offers Stop while a video or camera runs, Start camera otherwise."""
        self.live_button.setText("Stop" if live else "Start camera")
        self.live_button.setObjectName("danger" if live else "primary")
        self.live_button.style().polish(self.live_button)  # the style sheet picks the colour by object name

    # ------------------------------------------------------------------ slots
    def _on_open_clicked(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(IMAGE_EXTS))
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", f"Images ({exts})")
        if path:
            self.pathChosen.emit(path)

    def _on_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images")
        if folder:
            self.folderChosen.emit(folder)

    def _on_video_clicked(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        path, _ = QFileDialog.getOpenFileName(self, "Open video", "", f"Videos ({exts})")
        if path:
            self.videoChosen.emit(path)

    def _on_url_return_pressed(self) -> None:
        if self.url.text().strip():
            self.urlEntered.emit(self.url.text().strip())
