"""The model page's Overview tab: everything the checkpoint holds, read from the library record."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListView, QListWidget, QListWidgetItem,
    QPushButton, QScrollArea, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget,
)
from superqt import QElidingLabel

from app.library.records import ModelRecord
from app.library.untrusted import printable
from app.qt.model_table import fmt_params, fmt_size
from app.widgets.badge import Badge
from app.widgets.sparkline import Sparkline

# (results / metrics column, label) per task, in display order
METRICS_BY_TASK: dict[str, list[tuple[str, str]]] = {
    "detect": [("metrics/mAP50(B)", "mAP50"), ("metrics/mAP50-95(B)", "mAP50-95"),
               ("metrics/precision(B)", "Precision"), ("metrics/recall(B)", "Recall")],
    "segment": [("metrics/mAP50(M)", "Mask mAP50"), ("metrics/mAP50-95(M)", "Mask mAP50-95"),
                ("metrics/mAP50(B)", "Box mAP50"), ("metrics/mAP50-95(B)", "Box mAP50-95"),
                ("metrics/precision(M)", "Precision"), ("metrics/recall(M)", "Recall")],
    "pose": [("metrics/mAP50(P)", "Pose mAP50"), ("metrics/mAP50-95(P)", "Pose mAP50-95"),
             ("metrics/mAP50(B)", "Box mAP50"), ("metrics/mAP50-95(B)", "Box mAP50-95"),
             ("metrics/precision(P)", "Precision"), ("metrics/recall(P)", "Recall")],
    "classify": [("metrics/accuracy_top1", "Top-1"), ("metrics/accuracy_top5", "Top-5")],
}
METRICS_BY_TASK["obb"] = METRICS_BY_TASK["detect"]


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("card")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(14, 10, 14, 12)
    label = QLabel(title)
    label.setObjectName("cardTitle")
    lay.addWidget(label)
    return frame, lay


def _base_of(train_args: dict[str, Any]) -> str | None:
    """What a training started from, as ultralytics recorded it (``yolo26n.yaml``, ``…/yolo11n.pt``)."""
    model = train_args.get("model")
    return str(model).replace("\\", "/").rsplit("/", 1)[-1] if model else None


class MetricTile(QFrame):
    """One final metric: its value, big, and a sparkline across epochs.

    The sparkline (a pyqtgraph plot, ~30 ms) is made by :meth:`make_spark` or on first access of ``spark``: the
    Overview makes its tiles' one per event-loop turn, so that opening a model never stalls the window.
    """

    def __init__(self, label: str, value: float | None, series: list[Any]) -> None:
        super().__init__()
        self.setObjectName("metricTile")
        self.label = label
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(12, 8, 12, 8)
        self._lay.setSpacing(2)
        name = QLabel(label)
        name.setObjectName("muted")
        self.value_label = QLabel()
        self._series: list[Any] = []
        self._spark: Sparkline | None = None
        self._spark_slot = QWidget()  # the sparkline's room until it is made: the tile does not grow then
        self._spark_slot.setFixedHeight(40)
        self._lay.addWidget(name)
        self._lay.addWidget(self.value_label)
        self._lay.addWidget(self._spark_slot)
        self.show_values(value, series)

    @property
    def spark(self) -> Sparkline:
        """The sparkline, made now if it was not yet."""
        return self.make_spark()

    @property
    def spark_made(self) -> bool:
        """Whether the sparkline exists yet."""
        return self._spark is not None

    def make_spark(self) -> Sparkline:
        """Make the sparkline in its room (once) and return it."""
        if self._spark is None:
            self._spark = Sparkline(self._series)
            self._lay.replaceWidget(self._spark_slot, self._spark)
            self._spark_slot.deleteLater()
        return self._spark

    def show_values(self, value: float | None, series: list[Any]) -> None:
        """Show a new final value and series (a model shown again reuses its tiles)."""
        self.value_label.setText("—" if value is None else f"{value:.3f}")
        self._series = list(series)
        if self._spark is not None:
            self._spark.set_values(self._series)


class OverviewTab(QScrollArea):
    """Shows a :class:`ModelRecord`; edits to the name and Download are requested by signals."""

    renameRequested = Signal(str, str)
    downloadRequested = Signal(str)
    trashRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.record: ModelRecord | None = None
        self._body = QWidget()
        self.setWidget(self._body)
        self._lay = QVBoxLayout(self._body)
        self._lay.setContentsMargins(4, 12, 12, 12)
        self._lay.setSpacing(12)

        # Header: editable name, badges, actions
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nameEdit")
        self.name_edit.setToolTip("Model name (press Enter to save)")
        self.name_edit.editingFinished.connect(self._on_name_edit_editing_finished)
        self.task_badge = Badge("task")
        self.status_badge = Badge("status")
        self.arch_label = QLabel()
        self.arch_label.setObjectName("archLabel")
        self.arch_label.setTextFormat(Qt.TextFormat.PlainText)  # checkpoint text is never read as HTML
        self.download_button = QPushButton("Download .pt…")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.trash_button = QPushButton("Move to trash")
        self.trash_button.setObjectName("danger")
        self.trash_button.clicked.connect(self._on_trash_clicked)
        head = QHBoxLayout()
        head.addWidget(self.name_edit, 1)
        head.addWidget(self.task_badge)
        head.addWidget(self.status_badge)
        head.addWidget(self.arch_label)
        self._head = QGridLayout()  # the actions sit beside the name when there is room, under it when not
        self._head.addLayout(head, 0, 0)
        self._actions = QHBoxLayout()
        self._actions.addStretch(1)
        self._actions.addWidget(self.download_button)
        self._actions.addWidget(self.trash_button)
        self._head.addLayout(self._actions, 0, 1)
        self._lay.addLayout(self._head)
        self._columns = 4

        # Facts grid
        facts, facts_lay = _card("Model")
        self.facts = QGridLayout()
        self.facts.setHorizontalSpacing(24)
        self.facts.setVerticalSpacing(6)
        facts_lay.addLayout(self.facts)
        self._fact_labels: dict[str, QLabel] = {}
        for i, key in enumerate(("Task", "Architecture", "Input size", "Parameters", "Classes", "Epochs",
                                 "Base model", "Training state")):
            self._add_fact(key, i // 4, (i % 4) * 2)
        self._lay.addWidget(facts)

        # Metrics
        self.metrics_card, metrics_lay = _card("Final metrics")
        self.metrics_grid = QGridLayout()
        self.metrics_grid.setSpacing(10)
        metrics_lay.addLayout(self.metrics_grid)
        self.metrics_empty = QLabel("This checkpoint holds no training metrics (an untrained or converted model).")
        self.metrics_empty.setObjectName("muted")
        metrics_lay.addWidget(self.metrics_empty)
        self._lay.addWidget(self.metrics_card)

        # Classes and dataset side by side
        row = QHBoxLayout()
        classes, classes_lay = _card("Classes")
        self.classes_count = QLabel()
        self.classes_count.setObjectName("muted")
        self.classes = QListWidget()
        self.classes.setViewMode(QListView.ViewMode.IconMode)
        self.classes.setFlow(QListView.Flow.LeftToRight)
        self.classes.setWrapping(True)
        self.classes.setResizeMode(QListView.ResizeMode.Adjust)
        self.classes.setSpacing(4)
        self.classes.setObjectName("classChips")
        self.classes.setMaximumHeight(150)
        classes_lay.addWidget(self.classes_count)
        classes_lay.addWidget(self.classes)
        row.addWidget(classes, 3)
        dataset, dataset_lay = _card("Dataset")
        self.dataset_name = QLabel()
        self.dataset_name.setObjectName("datasetName")
        self.dataset_name.setTextFormat(Qt.TextFormat.PlainText)
        self.dataset_path = QElidingLabel()
        self.dataset_path.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.dataset_path.setObjectName("muted")
        self.dataset_note = QLabel()
        self.dataset_note.setObjectName("muted")
        self.dataset_note.setWordWrap(True)
        self.dataset_open = QPushButton("Open data set")
        self.dataset_open.clicked.connect(self._on_dataset_open_clicked)
        for w in (self.dataset_name, self.dataset_path, self.dataset_note, self.dataset_open):
            dataset_lay.addWidget(w)
        dataset_lay.addStretch(1)
        row.addWidget(dataset, 2)
        self._lay.addLayout(row)

        # Training arguments
        args, args_lay = _card("Training arguments")
        self.args_filter = QLineEdit()
        self.args_filter.setPlaceholderText("Filter arguments…")
        self.args_filter.setClearButtonEnabled(True)
        self.args_filter.textChanged.connect(self._on_args_filter_text_changed)
        self.args_table = QTableWidget(0, 2)
        self.args_table.setHorizontalHeaderLabels(["Argument", "Value"])
        self.args_table.verticalHeader().setVisible(False)
        self.args_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.args_table.setColumnWidth(0, 180)
        self.args_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.args_table.setMinimumHeight(220)
        self.args_table.setAlternatingRowColors(True)
        args_lay.addWidget(self.args_filter)
        args_lay.addWidget(self.args_table)
        self._lay.addWidget(args)

        # File facts
        file_card, file_lay = _card("File")
        self.file_grid = QGridLayout()
        self.file_grid.setHorizontalSpacing(24)
        file_lay.addLayout(self.file_grid)
        self._file_labels: dict[str, QLabel] = {}
        for i, key in enumerate(("Ultralytics", "Date", "Size", "Original file", "SHA-256", "Git", "Model id",
                                 "Added")):
            lab = QLabel(key)
            lab.setObjectName("factKey")
            val: QLabel = QElidingLabel() if key in ("Original file", "SHA-256", "Git") else QLabel()
            if isinstance(val, QElidingLabel):
                val.setElideMode(Qt.TextElideMode.ElideMiddle)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            val.setTextFormat(Qt.TextFormat.PlainText)
            self.file_grid.addWidget(lab, i, 0)
            self.file_grid.addWidget(val, i, 1)
            self._file_labels[key] = val
        copy = QToolButton()
        copy.setText("Copy")
        copy.setToolTip("Copy the SHA-256")
        copy.clicked.connect(self._on_copy_sha_clicked)
        self.file_grid.addWidget(copy, 4, 2)
        self.file_grid.setColumnStretch(1, 1)
        self._lay.addWidget(file_card)
        self._lay.addStretch(1)

    def _add_fact(self, key: str, row: int, col: int) -> None:
        lab = QLabel(key)
        lab.setObjectName("factKey")
        val = QLabel("—")
        val.setObjectName("factValue")
        val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        val.setTextFormat(Qt.TextFormat.PlainText)
        self.facts.addWidget(lab, row * 2, col // 2)
        self.facts.addWidget(val, row * 2 + 1, col // 2)
        self._fact_labels[key] = val
        self._fact_keys = getattr(self, "_fact_keys", []) + [lab]

    # ------------------------------------------------------------------ layout
    def resizeEvent(self, event: Any) -> None:  # noqa: N802 — Qt's name
        super().resizeEvent(event)
        self._reflow(4 if self.viewport().width() >= 900 else 2)

    def _reflow(self, columns: int) -> None:
        """Four columns of facts and metrics on a wide page, two on a narrow one (a laptop at 150 %), actions
        under the name: the page never needs to be wider than the window."""
        if columns == self._columns:
            return
        self._columns = columns
        self._head.removeItem(self._actions)
        if columns == 4:
            self._head.addLayout(self._actions, 0, 1)
        else:
            self._head.addLayout(self._actions, 1, 0)
        for i, lab in enumerate(self._fact_keys):
            val = self._fact_labels[lab.text()]
            row, col = i // columns, i % columns
            for w in (lab, val):
                self.facts.removeWidget(w)
            self.facts.addWidget(lab, row * 2, col)
            self.facts.addWidget(val, row * 2 + 1, col)
        tiles = [self.metrics_grid.itemAt(i).widget() for i in range(self.metrics_grid.count())]
        for i, tile in enumerate(t for t in tiles if t is not None):
            self.metrics_grid.removeWidget(tile)
            self.metrics_grid.addWidget(tile, i // columns, i % columns)

    # ------------------------------------------------------------------ show
    def show_record(self, m: ModelRecord) -> None:
        self.record = m
        self.name_edit.setText(printable(m.name))  # names, paths and class names from a file: escapes shown, not run
        self.task_badge.set_text(printable(m.task or "unknown task"))
        self.status_badge.set_text(m.status)
        self.arch_label.setText(printable(m.architecture or "unknown architecture"))
        self.download_button.setEnabled(m.has_weights)
        self.download_button.setToolTip("" if m.has_weights else "This model has no weights yet (still training, or "
                                        "the training failed)")
        imgsz = m.imgsz if not isinstance(m.imgsz, list) else "×".join(str(v) for v in m.imgsz)
        epochs = max((len(v) for v in m.results.values()), default=0)
        for key, value in (
            ("Task", m.task or "unknown"), ("Architecture", m.architecture or "unknown"),
            ("Input size", f"{imgsz} px" if imgsz else "—"),
            ("Parameters", f"{fmt_params(m.params)}  ({m.params:,})" if m.params else "—"),
            ("Classes", str(m.nc) if m.nc is not None else "—"),
            ("Epochs", f"{epochs} trained" + (f" of {m.train_args['epochs']}" if m.train_args.get("epochs") else "")
             if epochs else "—"),
            ("Base model", m.parent_name or _base_of(m.train_args) or "—"),
            ("Training state", "optimizer kept (last.pt: can resume)" if m.has_optimizer else "final (optimizer stripped)"),
        ):
            self._fact_labels[key].setText(printable(str(value)))
        self._show_metrics(m)
        self._show_classes(m.class_names)
        self._show_dataset(m)
        self._show_args(m.train_args)
        git = m.git or {}
        for key, value in (
            ("Ultralytics", m.ultralytics_version or "—"), ("Date", (m.checkpoint_date or "—").replace("T", " ")[:19]),
            ("Size", f"{fmt_size(m.size)}  ({m.size:,} bytes)" if m.size else "no weights yet"),
            ("Original file", m.source_path or m.original_filename or "—"),
            ("SHA-256", m.sha256 or "—"),
            ("Git", " · ".join(str(git[k]) for k in ("origin", "branch", "commit") if git.get(k)) or "—"),
            ("Model id", m.id), ("Added", m.created_at.astimezone().strftime("%Y-%m-%d %H:%M")),
        ):
            self._file_labels[key].setText(printable(value))
            self._file_labels[key].setToolTip(printable(value))

    def _show_metrics(self, m: ModelRecord) -> None:
        wanted = METRICS_BY_TASK.get(m.task or "", [])
        shown = [(k, label) for k, label in wanted if k in m.metrics or k in m.results]
        if not shown:  # unknown task: show whatever metrics/ keys exist
            shown = [(k, k.split("/")[-1]) for k in m.metrics if k.startswith("metrics/")]
        self.metrics_empty.setVisible(not shown)
        tiles = [self.metrics_grid.itemAt(i).widget() for i in range(self.metrics_grid.count())]
        if [t.label for t in tiles] == [label for _, label in shown]:  # the same tiles: new values only (no stall)
            for tile, (key, _) in zip(tiles, shown, strict=True):
                tile.show_values(m.metrics.get(key), m.results.get(key, []))
            return
        while self.metrics_grid.count():
            w = self.metrics_grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        for i, (key, label) in enumerate(shown):
            tile = MetricTile(label, m.metrics.get(key), m.results.get(key, []))
            self.metrics_grid.addWidget(tile, i // self._columns, i % self._columns)
        QTimer.singleShot(0, self, self._make_next_spark)

    def _make_next_spark(self) -> None:
        """Make one tile's sparkline, then come back on the next event-loop turn for the next one."""
        tiles = [self.metrics_grid.itemAt(i).widget() for i in range(self.metrics_grid.count())]
        waiting = [t for t in tiles if isinstance(t, MetricTile) and not t.spark_made]
        if waiting:
            waiting[0].make_spark()
            QTimer.singleShot(0, self, self._make_next_spark)

    def _show_classes(self, names: list[str]) -> None:
        self.classes.clear()
        self.classes_count.setText(f"{len(names)} class{'es' if len(names) != 1 else ''}")
        fm = self.classes.fontMetrics()
        for i, n in enumerate(names):
            item = QListWidgetItem(f"{i}  {printable(str(n))}")
            item.setSizeHint(QSize(fm.horizontalAdvance(item.text()) + 18, 24))
            self.classes.addItem(item)
        per_row = max(1, self.classes.viewport().width() // 110)
        rows = -(-len(names) // per_row) if names else 1
        self.classes.setFixedHeight(min(160, 12 + 30 * rows))

    def _show_dataset(self, m: ModelRecord) -> None:
        if m.dataset is not None:
            self.dataset_name.setText(printable(m.dataset.name))
            self.dataset_path.setText(printable(m.dataset.location))
            self.dataset_note.setText(f"In the library · {len(m.dataset.class_names)} classes")
            self.dataset_open.setVisible(True)
        elif m.dataset_ref:
            parts = m.dataset_ref.replace("\\", "/").rstrip("/").split("/")
            is_yaml = parts[-1].endswith((".yaml", ".yml"))
            self.dataset_name.setText(printable(parts[-2] if is_yaml and len(parts) > 1 and parts[-1] == "data.yaml"
                                                else parts[-1]))
            self.dataset_path.setText(printable(m.dataset_ref))
            self.dataset_note.setText("Not in the library: this is where the model was trained from.")
            self.dataset_open.setVisible(False)
        else:
            self.dataset_name.setText("No data set recorded")
            self.dataset_path.setText("")
            self.dataset_note.setText("The checkpoint does not name the data it was trained on.")
            self.dataset_open.setVisible(False)

    def _show_args(self, args: dict[str, Any]) -> None:
        items = sorted(args.items())
        self.args_table.setRowCount(len(items))
        for r, (k, v) in enumerate(items):
            self.args_table.setItem(r, 0, QTableWidgetItem(printable(str(k))))
            text = v if isinstance(v, str) else json.dumps(v, default=str)
            self.args_table.setItem(r, 1, QTableWidgetItem(printable(text)))
        self._on_args_filter_text_changed(self.args_filter.text())

    # ------------------------------------------------------------------ slots
    def _on_name_edit_editing_finished(self) -> None:
        shown = printable(self.record.name) if self.record else ""
        if self.record and self.name_edit.text().strip() and self.name_edit.text().strip() not in (self.record.name, shown):
            self.renameRequested.emit(self.record.id, self.name_edit.text().strip())

    def _on_download_clicked(self) -> None:
        if self.record:
            self.downloadRequested.emit(self.record.id)

    def _on_trash_clicked(self) -> None:
        if self.record:
            self.trashRequested.emit(self.record.id)

    def _on_dataset_open_clicked(self) -> None:
        if self.record and self.record.dataset:
            window = self.window()
            if hasattr(window, "show_page"):  # lineage: the data set's page (it lists this model back)
                window.show_page("datasets").open_dataset(self.record.dataset.id)
                return
            loc = self.record.dataset.location
            folder = loc.rsplit("/", 1)[0] if loc.endswith((".yaml", ".yml")) else loc
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def _on_copy_sha_clicked(self) -> None:
        if self.record and self.record.sha256:
            QGuiApplication.clipboard().setText(self.record.sha256)

    def _on_args_filter_text_changed(self, text: str) -> None:
        t = text.lower()
        for r in range(self.args_table.rowCount()):
            k = self.args_table.item(r, 0).text().lower()
            v = self.args_table.item(r, 1).text().lower()
            self.args_table.setRowHidden(r, bool(t) and t not in k and t not in v)
