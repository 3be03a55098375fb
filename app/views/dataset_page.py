"""One data set: a grid of sample images with their labels drawn, a class histogram per split, the models trained
on it (a click opens the model) and what is wrong per file.

Everything is read off the GUI thread: the record through the window's library ops, the thumbnails (decoded,
labels parsed and painted into QImages) on the thread pool. A data set whose folder vanished shows as Missing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea, QSplitter,
    QVBoxLayout, QWidget,
)

from app.library.dataset_labels import read_sample
from app.library.datasets import DatasetInfo, dataset_info
from app.library.repository import Library
from app.qt.library_ops import LibraryOps
from app.qt.tasks import run_in_background
from app.widgets.badge import Badge
from app.widgets.chart_style import chart_colors, style_plot
from app.widgets.label_overlay import Drawn, LabelThumb, class_color, render_sample

GRID_COLUMNS = 4
THUMB = 136
SPLIT_OFFSETS = {"train": -0.27, "val": 0.0, "test": 0.27}  # bars of one class side by side


NOT_ALL_COUNTED = "not all files were counted"  # the bounded size walk stopped: the bytes are a lower bound


def human_size(n: int | None) -> str:
    """Bytes as the pages show them (GB, MB or kB)."""
    if n is None:
        return "—"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def size_text(info: DatasetInfo) -> tuple[str, str]:
    """(the size as shown, its tooltip): ``>`` before it and a tooltip saying why when not every file was counted."""
    shown = human_size(info.record.size)
    if info.stats.get("size_counted", True) or info.record.size is None:
        return shown, ""
    return f">{shown}", NOT_ALL_COUNTED


def _render_all(info: DatasetInfo, split: str) -> list[tuple[object, Drawn, str]]:
    """Thumbnails of the split's samples (on the thread pool): (QImage, what was drawn, file name)."""
    r = info.record
    out = []
    for image in info.stats.get("samples", {}).get(split, []):
        sample = read_sample(image, r.task or "detect", len(r.class_names), info.stats.get("kpt_shape"))
        img, drawn = render_sample(sample, r.class_names, info.stats.get("kpt_shape"), THUMB)
        out.append((img, drawn, Path(image).name))
    return out


class ClassHistogram(pg.PlotWidget):
    """Instances per class, one bar colour per split; ``bars[split]`` is that split's BarGraphItem."""

    def __init__(self, parent: QWidget | None = None) -> None:
        bg, _text, _axis = chart_colors()
        super().__init__(parent, background=bg)
        self.setMinimumHeight(200)
        style_plot(self.getPlotItem(), "Instances per class")
        self.legend = self.getPlotItem().addLegend(offset=(-10, 10))
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.setMouseEnabled(x=False, y=False)

    def show_counts(self, names: list[str], splits: dict[str, dict]) -> None:
        """One group of bars per class; heights are the instance counts of each split."""
        plot = self.getPlotItem()
        for item in self.bars.values():
            plot.removeItem(item)
        self.legend.clear()
        self.bars = {}
        brushes = {"train": "#4C8BF5", "val": "#F5A524", "test": "#3DDB86"}
        for split, stats in splits.items():
            heights = [stats.get("instances", {}).get(n, 0) for n in names]
            bar = pg.BarGraphItem(x=[i + SPLIT_OFFSETS.get(split, 0) for i in range(len(names))], height=heights,
                                  width=0.26, brush=brushes.get(split, "#999999"), pen=None, name=split)
            plot.addItem(bar)
            self.bars[split] = bar
        plot.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(names)]])
        plot.setXRange(-0.6, max(len(names) - 0.4, 0.6), padding=0)


class DatasetPage(QWidget):
    """The page of one data set (inside the Datasets page's stack)."""

    backRequested = Signal()
    gridReady = Signal()

    def __init__(self, lib: Library, ops: LibraryOps, open_model: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.ops, self._open_model = lib, ops, open_model
        self.info: DatasetInfo | None = None
        self.thumbs: list[LabelThumb] = []
        self._render_token = 0
        back = QPushButton("← Datasets")
        back.setObjectName("flat")
        back.clicked.connect(self.backRequested.emit)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.state = Badge("status")
        self.rescan_button = QPushButton("Check again")
        self.rescan_button.setToolTip("Scan the files again (counts, problems, size)")
        self.folder_button = QPushButton("Open folder")
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        head = QHBoxLayout()
        for w in (back, self.title, self.state):
            head.addWidget(w)
        head.addStretch(1)
        head.addWidget(self.rescan_button)
        head.addWidget(self.folder_button)
        self.facts = QLabel()
        self.facts.setObjectName("muted")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.split_combo = QComboBox()
        self.split_combo.currentTextChanged.connect(self._on_split_combo_changed)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(6)
        self.grid_note = QLabel()
        self.grid_note.setObjectName("muted")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        samples_head = QHBoxLayout()
        samples_head.addWidget(_section("Samples"))
        samples_head.addStretch(1)
        samples_head.addWidget(self.split_combo)
        left_lay.addLayout(samples_head)
        left_lay.addWidget(self.grid_note)
        left_lay.addWidget(scroll, 1)

        self.histogram = ClassHistogram()
        self.models_list = QListWidget()
        self.models_list.itemClicked.connect(self._on_models_list_item_clicked)
        self.models_list.itemActivated.connect(self._on_models_list_item_clicked)
        self.problems_list = QListWidget()
        self.problems_list.setWordWrap(True)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(self.histogram, 3)
        right_lay.addWidget(_section("Models trained on it"))
        right_lay.addWidget(self.models_list, 1)
        self.problems_title = _section("Problems")
        right_lay.addWidget(self.problems_title)
        right_lay.addWidget(self.problems_list, 2)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([GRID_COLUMNS * (THUMB + 8) + 60, 400])  # the grid's four columns whole; the charts take the rest
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 14, 20, 14)
        lay.addLayout(head)
        lay.addWidget(self.facts)
        lay.addWidget(split, 1)

    # --------------------------------------------------------------------------------------------- loading
    def load(self, dataset_id: int) -> None:
        """Read the data set on the library thread, then show it."""
        self.ops.submit(lambda: dataset_info(self.lib, dataset_id), self.show_info, self._on_load_failed,
                        what="Opening the data set")

    def _on_load_failed(self, error: Exception) -> None:
        self.info = None
        self.title.setText("Data set not found")
        self.facts.setText(str(error))

    def show_info(self, info: DatasetInfo) -> None:
        """Show ``info`` (GUI thread); the thumbnails follow from the thread pool."""
        self.info = info
        r = info.record
        self.title.setText(r.name)
        self.state.set_text(info.state)
        size, size_tip = size_text(info)
        checked = r.checked_at.strftime("%Y-%m-%d %H:%M") if r.checked_at else "never"
        self.facts.setText(f"{r.task or '?'} · {len(r.class_names)} classes · {size} · checked {checked}\n"
                           f"{r.location}" + (f"\nfrom {info.stats['source']}" if info.stats.get("source") else ""))
        self.facts.setToolTip(size_tip)
        splits = info.stats.get("splits", {})
        self.histogram.show_counts(r.class_names, splits)
        self.models_list.clear()
        for m in info.models:
            item = QListWidgetItem(f"{m.name}  ·  {m.project}")
            item.setData(Qt.ItemDataRole.UserRole, m.id)
            self.models_list.addItem(item)
        if not info.models:
            self.models_list.addItem(QListWidgetItem("No model in the library was trained on it yet"))
        self._show_problems(info)
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        self.split_combo.addItems([s for s in splits if info.stats.get("samples", {}).get(s)])
        self.split_combo.blockSignals(False)
        self._render(self.split_combo.currentText())

    def _show_problems(self, info: DatasetInfo) -> None:
        self.problems_list.clear()
        problems = info.stats.get("problems", [])
        count = info.stats.get("problem_count", len(problems))
        self.problems_title.setText(f"Problems ({count})" if count else "Problems")
        for p in problems:
            item = QListWidgetItem(f"{'⚠' if p['severity'] == 'warning' else '✖'}  {Path(p['file']).name}: "
                                   f"{p['message']}")
            item.setToolTip(html.escape(p["file"]))
            self.problems_list.addItem(item)
        if info.state == "Missing":
            self.problems_list.insertItem(0, QListWidgetItem(f"✖  {info.record.location} is gone (moved or "
                                                             "deleted); the counts are from the last check"))
        elif not problems:
            self.problems_list.addItem(QListWidgetItem("No problems found"))

    def _render(self, split: str) -> None:
        self._render_token += 1
        token, info = self._render_token, self.info
        self._clear_grid()
        if info is None or not split:
            self.grid_note.setText("No sample images")
            self.gridReady.emit()
            return
        self.grid_note.setText("Drawing the samples…")
        run_in_background(lambda: _render_all(info, split), lambda out: self._show_grid(token, out),
                          lambda e: self._grid_failed(token, e))

    def _show_grid(self, token: int, rendered: list) -> None:
        if token != self._render_token:
            return  # another split was chosen meanwhile
        for i, (img, drawn, name) in enumerate(rendered):
            thumb = LabelThumb(img, drawn, name)
            self.grid.addWidget(thumb, i // GRID_COLUMNS, i % GRID_COLUMNS)
            self.thumbs.append(thumb)
        self.grid_note.setText(f"{len(rendered)} of {self.info.images(self.split_combo.currentText()) if self.info else 0}"
                               f" images, with their labels{self._colour_key()}")
        self.gridReady.emit()

    def _colour_key(self) -> str:
        """Which colour is which class (a newcomer saw green and orange boxes and no key); empty for classify."""
        names = self.info.record.class_names if self.info else []
        if not names or (self.info.record.task or "detect") == "classify":
            return ""
        shown = [f"<span style='color:{class_color(i).name()}'>■</span> {html.escape(n)}"
                 for i, n in enumerate(names[:10])]
        return " · " + "  ".join(shown) + ("  …" if len(names) > 10 else "")

    def _grid_failed(self, token: int, error: Exception) -> None:
        if token == self._render_token:
            self.grid_note.setText(f"The samples could not be drawn: {error}")
            self.gridReady.emit()

    def _clear_grid(self) -> None:
        for t in self.thumbs:
            self.grid.removeWidget(t)
            t.deleteLater()
        self.thumbs = []

    # --------------------------------------------------------------------------------------------- slots
    def _on_split_combo_changed(self, split: str) -> None:
        self._render(split)

    def _on_models_list_item_clicked(self, item: QListWidgetItem) -> None:
        model_id = item.data(Qt.ItemDataRole.UserRole)
        if model_id:
            self._open_model(model_id)

    def _on_folder_button_clicked(self) -> None:
        if self.info:
            r = self.info.record  # the scan's root is a folder; a never-scanned data.yaml: its folder (no disk look here)
            root = self.info.stats.get("root") or (r.location if r.kind == "folder" else str(Path(r.location).parent))
            QDesktopServices.openUrl(QUrl.fromLocalFile(root))


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


__all__ = ["ClassHistogram", "DatasetPage", "class_color"]
