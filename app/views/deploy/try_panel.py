"""The Deploy tab's test panel: drop (or pick) a picture, it goes to the selected endpoint as any client's would,
and its answer comes back as pretty JSON beside the picture with the results drawn from that JSON.

The request, the decoding of the picture and the drawing run off the GUI thread (QImage and QPainter work there);
the tab hands over the endpoint's URL and token (:meth:`TryPanel.send`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QSizePolicy, QVBoxLayout, QWidget)

from app.widgets.drop_filter import FileDropFilter

PICTURES = "Pictures (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff);;Any file (*)"
HINT = "Drop a picture here, or pick one: it is sent to the selected endpoint with its token."


def _answer(url: str, token: str | None, path: Path, conf: float) -> tuple[dict[str, Any], QImage | None]:
    """Off the GUI thread: the endpoint's answer and the picture with it drawn (None if Qt cannot read it)."""
    from app.deploy.predict_client import send_picture
    from app.views.deploy.response_drawing import draw_response

    response = send_picture(url, token, path, params={"conf": conf})
    image = QImage(str(path))
    return response, (draw_response(image, response) if not image.isNull() else None)


class TryPanel(QWidget):
    """A picture in, the endpoint's JSON and overlay out; errors are one sentence in :attr:`verdict`."""

    pictureChosen = Signal(str)  # a path: the tab answers with send(url, token, path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.response: dict[str, Any] | None = None
        self.drawn: QImage | None = None
        self.busy = False
        self.pick_button = QPushButton("Pick a picture…")
        self.pick_button.clicked.connect(self._on_pick_button_clicked)
        self.conf = QDoubleSpinBox()
        self.conf.setRange(0.01, 1.0)
        self.conf.setSingleStep(0.05)
        self.conf.setValue(0.25)  # the endpoint's own default
        self.conf.setPrefix("conf ")
        self.conf.setToolTip("The confidence threshold sent with the picture (the endpoint's conf parameter)")
        self.copy_button = QPushButton("Copy JSON")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.verdict = QLabel(HINT)
        self.verdict.setWordWrap(True)
        self.picture = QLabel("Drop a picture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(200, 150)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # the pixmap follows
        self.picture.setObjectName("dropTarget")
        self.picture.setFrameShape(QLabel.Shape.StyledPanel)
        self.json = QPlainTextEdit(readOnly=True)
        self.json.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.json.setPlaceholderText("The endpoint's answer (JSON) appears here.")
        top = QHBoxLayout()
        top.addWidget(self.pick_button)
        top.addWidget(self.conf)
        top.addWidget(self.verdict, 1)
        top.addWidget(self.copy_button)
        body = QHBoxLayout()
        body.addWidget(self.picture, 1)
        body.addWidget(self.json, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(body, 1)
        self._drops = FileDropFilter(self)
        self._drops.install(self)
        self._drops.install(self.picture)
        self._drops.install(self.json.viewport())
        self._drops.filesDropped.connect(self._on_drops_files_dropped)

    def choose(self, path: str) -> None:
        """As if ``path`` was dropped: the tab is asked to send it."""
        self.pictureChosen.emit(path)

    def send(self, url: str, token: str | None, path: str) -> None:
        """Send ``path`` to ``url`` with ``token`` off the GUI thread; the answer (or why not) is shown."""
        from app.qt.tasks import run_in_background

        self.busy = True
        self.pick_button.setEnabled(False)
        self.verdict.setText(f"Sending {Path(path).name} to {url}…")
        conf = round(self.conf.value(), 2)
        run_in_background(lambda: _answer(url, token, Path(path), conf), self._on_answer_arrived,
                          self._on_answer_failed)

    def refuse(self, message: str) -> None:
        """Nothing was sent: say why in one sentence."""
        self.verdict.setText(message)

    def _on_answer_arrived(self, result: tuple[dict[str, Any], QImage | None]) -> None:
        from app.views.deploy.response_drawing import summary_line

        self.busy = False
        self.pick_button.setEnabled(True)
        self.response, self.drawn = result
        self.json.setPlainText(json.dumps(self.response, indent=2))
        self.copy_button.setEnabled(True)
        self.verdict.setText(summary_line(self.response) + ("" if self.drawn else " (Qt cannot show this picture)"))
        self._show_drawn()

    def _on_answer_failed(self, error: Exception) -> None:
        self.busy = False
        self.pick_button.setEnabled(True)
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        self.verdict.setText(f"Not answered: {text}")

    def _show_drawn(self) -> None:
        if self.drawn is None:
            self.picture.setPixmap(QPixmap())
            return
        pix = QPixmap.fromImage(self.drawn)
        self.picture.setPixmap(pix.scaled(self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._show_drawn()

    def _on_pick_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A picture to send", "", PICTURES)
        if path:
            self.choose(path)

    def _on_drops_files_dropped(self, paths: list[str]) -> None:
        files = [p for p in paths if Path(p).is_file()]
        if not files:
            self.refuse("Drop a picture file, not a folder.")
            return
        self.choose(files[0])

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.json.toPlainText())
        self.verdict.setText("The answer's JSON is copied.")
