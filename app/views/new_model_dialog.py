"""New Model: base model (or a library model to fine-tune), data set, epochs, batch, image size, device, more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
    QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QScrollArea, QSizePolicy, QSpinBox,
    QVBoxLayout, QWidget,
)
from superqt import QCollapsible

from app.jobs.cluster_gpus import default_per_job
from app.jobs.placement import ANY_GPU_LABEL
from app.jobs.spec import FAMILIES, SCALES, SpecError, TrainRequest, base_model_name, base_model_source
from app.library.records import DatasetRecord, ModelRecord
from app.qt.tasks import run_in_background
from app.views.new_model_settings import restore_fields, save_fields, settings_at

TASKS = ("detect", "segment", "pose", "obb", "classify")
CHOOSE_DATA = "Choose a data set: a data.yaml, a classification folder, or Demo data."


class NewModelDialog(QDialog):
    """Collects a :class:`TrainRequest`; checks it off the GUI thread and shows problems next to the fields."""

    demoDataRequested = Signal(str)  # task

    def __init__(self, models: list[ModelRecord], datasets: list[DatasetRecord], weights_dir: Path,
                 devices: list[tuple[str, str]] | None, project_id: int, parent: QWidget | None = None,
                 settings_path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Model")
        self.setMinimumWidth(600)
        self._settings = settings_at(settings_path) if settings_path is not None else None
        self._preferred_device: str | None = None  # the device saved last, chosen once the agent lists it
        self.request: TrainRequest | None = None
        self._weights_dir = weights_dir
        self._project_id = project_id
        self._models = [m for m in models if m.has_weights]
        self._errors: dict[str, QLabel] = {}

        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. shapes-yolo26n (default: architecture-dataset)")
        self.from_arch = QRadioButton("Start from an architecture")
        self.from_model = QRadioButton("Fine-tune one of my models")
        self.from_arch.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_arch)
        group.addButton(self.from_model)
        self.family = QComboBox()
        self.family.addItems(list(FAMILIES))
        self.scale = QComboBox()
        self.scale.addItems(list(SCALES))
        self.task = QComboBox()
        self.task.addItems(list(TASKS))
        self.base_note = QLabel()
        self.base_note.setObjectName("muted")
        self.base_note.setWordWrap(True)
        self.library_model = QComboBox()
        for m in self._models:
            self.library_model.addItem(f"{m.name} · {m.architecture or '?'} · {m.task}", m.id)
        self.from_model.setEnabled(bool(self._models))
        if not self._models:
            self.from_model.setToolTip("No model with weights in the library yet")
        arch_row = QHBoxLayout()
        for w in (self.family, self.scale, self.task):
            arch_row.addWidget(w)

        self.data = QComboBox()
        self.data.setEditable(True)
        self.data.lineEdit().setPlaceholderText("path to a data.yaml or a classification folder")
        self.data.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.data.setMinimumContentsLength(36)  # a path is long: the field is wide, a longer one scrolls
        self.data.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for d in datasets:
            self.data.addItem(f"{d.location}", d.location)
        self.data.setCurrentText("")
        browse_file = QPushButton("data.yaml…")
        browse_file.clicked.connect(self._on_browse_file_clicked)
        browse_dir = QPushButton("Folder…")
        browse_dir.clicked.connect(self._on_browse_dir_clicked)
        self.demo = QPushButton("Demo data")
        self.demo.setToolTip("Write a small synthetic data set for this task (trains in about a minute on a CPU)")
        self.demo.clicked.connect(self._on_demo_clicked)
        data_row = QVBoxLayout()  # the path on its own line (wide), its three sources under it
        data_row.addWidget(self.data)
        data_buttons = QHBoxLayout()
        for b in (browse_file, browse_dir, self.demo):
            data_buttons.addWidget(b)
        data_buttons.addStretch(1)
        data_row.addLayout(data_buttons)

        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.epochs.setValue(30)
        self.batch = QSpinBox()
        self.batch.setRange(-1, 4096)
        self.batch.setValue(16)
        self.batch.setSpecialValueText("auto (-1)")
        self.imgsz = QSpinBox()
        self.imgsz.setRange(32, 4096)
        self.imgsz.setSingleStep(32)
        self.imgsz.setValue(640)
        self.device = QComboBox()
        self.set_devices(devices)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow(self.from_arch)
        form.addRow("", self._with_error("model", arch_row))
        form.addRow("", self.base_note)
        form.addRow(self.from_model)
        form.addRow("", self.library_model)
        form.addRow("Data set", self._with_error("dataset", data_row))
        form.addRow("Epochs", self._with_error("epochs", self.epochs))
        form.addRow("Batch", self._with_error("batch", self.batch))
        form.addRow("Image size", self._with_error("imgsz", self.imgsz))
        form.addRow("Device", self._with_error("device", self.device))

        self.advanced = QCollapsible("Advanced arguments")
        adv = QWidget()
        af = QGridLayout(adv)  # two columns of arguments: Advanced open still fits a 700-px screen
        self.patience = QSpinBox()
        self.patience.setRange(0, 100_000)
        self.patience.setValue(100)
        self.optimizer = QComboBox()
        self.optimizer.addItems(["auto", "SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSProp"])
        self.lr0 = QDoubleSpinBox()
        self.lr0.setDecimals(5)
        self.lr0.setRange(0.00001, 1.0)
        self.lr0.setSingleStep(0.001)
        self.lr0.setValue(0.01)
        self.workers = QSpinBox()
        self.workers.setRange(0, 64)
        self.workers.setValue(2)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.cache = QComboBox()
        self.cache.addItems(["False", "ram", "disk"])
        self.cos_lr = QCheckBox("cosine learning-rate schedule")
        self.amp = QCheckBox("mixed precision (AMP, GPU only)")
        self.amp.setChecked(True)
        self.plots = QCheckBox("save plots (confusion matrix, PR curves)")
        self.plots.setChecked(True)
        self.mosaic = QDoubleSpinBox()
        self.mosaic.setRange(0, 1)
        self.mosaic.setSingleStep(0.1)
        self.mosaic.setValue(1.0)
        for i, (label, w) in enumerate((("Patience", self.patience), ("Optimizer", self.optimizer),
                                        ("lr0", self.lr0), ("Workers", self.workers), ("Seed", self.seed),
                                        ("Cache", self.cache), ("Mosaic", self.mosaic))):
            af.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            af.addWidget(w, i // 2, (i % 2) * 2 + 1)
        for i, w in enumerate((self.cos_lr, self.amp, self.plots)):
            af.addWidget(w, 4 + i // 2, (i % 2) * 2, 1, 2)
        af.addWidget(self._with_error("arguments", QWidget()), 6, 0, 1, 4)  # any other refused argument, by name
        self.advanced.addWidget(adv)

        self.buttons = QDialogButtonBox()
        self.start = self.buttons.addButton("Start training", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start.setObjectName("primary")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addLayout(form)
        bl.addWidget(self.advanced)
        bl.addStretch(1)
        scroll = QScrollArea()  # a short screen scrolls the fields; the buttons stay in sight
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.scroll = scroll
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.buttons)
        self.resize(max(self.minimumWidth(), body.sizeHint().width() + 24), self._fitting_height())
        # opening Advanced grows the dialog to show it all (up to the screen), once the unfolding is done
        self.advanced.toggled.connect(lambda on: QTimer.singleShot(self.advanced._animation.duration() + 20,
                                                                   lambda: self._fit_height(shrink=not on)))

        for w in (self.family, self.scale, self.task):
            w.currentIndexChanged.connect(self._on_base_changed)
        self.from_arch.toggled.connect(self._on_base_changed)
        self.library_model.currentIndexChanged.connect(self._on_base_changed)
        self._remembered = {"family": self.family, "scale": self.scale, "task": self.task, "data": self.data,
                            "epochs": self.epochs, "batch": self.batch, "imgsz": self.imgsz,
                            "patience": self.patience, "optimizer": self.optimizer, "lr0": self.lr0,
                            "workers": self.workers, "seed": self.seed, "cache": self.cache, "mosaic": self.mosaic,
                            "cos_lr": self.cos_lr, "amp": self.amp, "plots": self.plots}
        if self._settings is not None:
            restore_fields(self._settings, self._remembered)
            saved = self._settings.value("new_model/device")
            self._preferred_device = str(saved) if saved is not None else None
            self.set_devices(devices)
        # a message goes once its field is changed (the next Start checks everything again)
        self.data.currentTextChanged.connect(lambda _t: self._clear_problem("dataset"))
        for key, w in (("epochs", self.epochs), ("batch", self.batch), ("imgsz", self.imgsz)):
            w.valueChanged.connect(lambda _v, k=key: self._clear_problem(k))
        self.device.currentIndexChanged.connect(lambda _i: self._clear_problem("device"))
        self._on_base_changed()

    def _with_error(self, key: str, content: Any) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        if isinstance(content, QWidget):
            v.addWidget(content)
        else:
            v.addLayout(content)
        err = QLabel()
        err.setObjectName("fieldError")
        err.setWordWrap(True)
        err.hide()
        v.addWidget(err)
        self._errors[key] = err
        return box

    def set_devices(self, devices: list[tuple[str, str]] | None) -> None:
        """(value, label) pairs from the agent's ``info``; None while it is still being asked."""
        current = self.device.currentData()
        self.device.clear()
        self.device.addItem("CPU", "cpu")
        for value, label in devices or []:
            self.device.addItem(label, value)
        if devices is None:
            self.device.addItem("looking for GPUs…", None)
            self.device.model().item(self.device.count() - 1).setEnabled(False)
        idx = self.device.findData(current)
        if self._preferred_device is not None and self.device.findData(self._preferred_device) >= 0:
            idx = self.device.findData(self._preferred_device)
        self.device.setCurrentIndex(idx if idx >= 0 else (1 if devices else 0))

    def set_dataset(self, location: str) -> None:
        self.data.setCurrentText(location)

    # ------------------------------------------------------------------ request
    def _base(self) -> tuple[str, str, str | None, str | None]:
        """(model source, task, parent model id, architecture label)."""
        if self.from_model.isChecked() and self._models:
            m = self._models[self.library_model.currentIndex()]
            return str(m.weights_path), m.task or "detect", m.id, m.architecture
        name = base_model_name(self.family.currentText(), self.scale.currentText(), self.task.currentText())
        source, _ = base_model_source(name, self._weights_dir)
        return source, self.task.currentText(), None, None

    def build_request(self) -> TrainRequest:
        source, task, parent, arch = self._base()
        extra: dict[str, Any] = {
            "patience": self.patience.value(), "optimizer": self.optimizer.currentText(), "lr0": self.lr0.value(),
            "workers": self.workers.value(), "seed": self.seed.value(), "cos_lr": self.cos_lr.isChecked(),
            "amp": self.amp.isChecked(), "plots": self.plots.isChecked(), "mosaic": self.mosaic.value(),
            "cache": {"False": False}.get(self.cache.currentText(), self.cache.currentText()),
        }
        worker, device = split_device(self.device.currentData() or "cpu")
        return TrainRequest(
            model=source, task=task, data=self.data.currentText().strip(), epochs=self.epochs.value(),
            imgsz=self.imgsz.value(), batch=self.batch.value(), device=device,
            extra=extra, name=self.name.text().strip() or None, project_id=self._project_id, parent_id=parent,
            architecture=arch, worker=worker,
        )

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each problem next to its field; those of fields without their own row, by name, under the advanced ones."""
        others = {k: v for k, v in problems.items() if k not in self._errors}
        if others:
            problems = {**problems, "arguments": "\n".join(f"{k}: {v}" for k, v in others.items())}
            self.advanced.expand(animate=False)
        for key, label in self._errors.items():
            label.setText(problems.get(key, ""))
            label.setVisible(key in problems)
        if problems and self.isVisible():
            QTimer.singleShot(0, self._fit_height)  # the messages' lines: grown to keep every field in sight

    def _fitting_height(self) -> int:
        """The height that shows every field, within the screen (a smaller screen scrolls the fields)."""
        wanted = self.scroll.widget().sizeHint().height() + self.buttons.sizeHint().height() + 36
        screen = self.screen().availableGeometry().height() if self.screen() is not None else 700
        return min(wanted, screen - 60)

    def _fit_height(self, shrink: bool = False) -> None:
        """Show every field; grow only, unless Advanced was just folded away."""
        self.resize(self.width(), self._fitting_height() if shrink else max(self.height(), self._fitting_height()))

    def _clear_problem(self, key: str) -> None:
        self._errors[key].clear()
        self._errors[key].hide()

    def _problems(self, problems: dict[str, str], data: str) -> dict[str, str]:
        """No data set yet is asked for as such (the check would call the empty path "`.`")."""
        return {**problems, "dataset": CHOOSE_DATA} if not data else problems

    def remember(self) -> None:
        """Save the fields for the next New Model (in the library home's window.ini)."""
        if self._settings is not None:
            save_fields(self._settings, self._remembered)
            self._settings.setValue("new_model/device", self.device.currentData() or "cpu")
            self._settings.sync()

    # ------------------------------------------------------------------ slots
    def _on_base_changed(self, *_: Any) -> None:
        fine_tune = self.from_model.isChecked()
        for w in (self.family, self.scale, self.task):
            w.setEnabled(not fine_tune)
        self.library_model.setEnabled(fine_tune)
        try:
            self.show_problems({})
            source, task, parent, _ = self._base()
        except SpecError as e:
            self.show_problems(e.problems)
            self.start.setEnabled(False)
            return
        self.start.setEnabled(True)
        if parent:
            self.base_note.setText(f"Fine-tunes {Path(source).parent.name}'s weights on the data set ({task}).")
        elif source.endswith(".pt"):
            self.base_note.setText(f"Pretrained weights found: {source}")
        else:
            self.base_note.setText(f"Built from {source} (shipped with ultralytics): no pretrained weights on disk, "
                                   "so it trains from scratch.")

    def _on_browse_file_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Data set", "", "Data set (*.yaml *.yml)")
        if path:
            self.data.setCurrentText(path)

    def _on_browse_dir_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Classification data set (train/ and val/ class folders)")
        if path:
            self.data.setCurrentText(path)

    def _on_demo_clicked(self) -> None:
        task = self._base()[1]
        self.demo.setEnabled(False)
        self.demo.setText("Writing…")
        self.demoDataRequested.emit(task)

    def demo_ready(self, location: str) -> None:
        self.demo.setEnabled(True)
        self.demo.setText("Demo data")
        self.set_dataset(location)
        if self.imgsz.value() > 160:
            self.imgsz.setValue(128)  # the demo images are 128 px

    def _on_buttons_accepted(self) -> None:
        data = self.data.currentText().strip()
        try:
            req = self.build_request()
        except SpecError as e:
            self.show_problems(self._problems(e.problems, data))
            return
        self.start.setEnabled(False)
        self.start.setText("Checking…")

        def done(_ds: Any) -> None:
            self.request = req
            self.remember()
            self.accept()

        def failed(e: Exception) -> None:
            self.start.setEnabled(True)
            self.start.setText("Start training")
            self.show_problems(self._problems(e.problems if isinstance(e, SpecError) else {"dataset": str(e)}, data))

        run_in_background(req.validate, done, failed)  # reads the data set: never on the GUI thread


def devices_from_info(info: dict[str, Any]) -> list[tuple[str, str]]:
    """Device choices from ``remote_agent info``: one per CUDA device."""
    out = []
    for d in info.get("cuda_devices") or []:
        out.append((str(d["index"]), f"cuda:{d['index']} · {d['name']} ({d['memory'] / 2**30:.0f} GB)"))
    return out


def worker_devices(workers: list[Any]) -> list[tuple[str, str]]:
    """Device choices on workers (their GPUs, then their CPU), as ``worker:NAME:DEVICE`` values."""
    out = []
    for w in workers:
        if w.info is None:
            continue
        if w.kind in ("slurm", "ray"):  # a cluster's GPUs are on nodes it picks: a job asks for a number of them
            engine = "Slurm" if w.kind == "slurm" else "Ray"
            out += [(f"worker:{w.name}:", f"{w.name} · its default per job ({default_per_job(w.kind, w.options)})"),
                    (f"worker:{w.name}:0", f"{w.name} · 1 GPU ({engine} picks the node)"),
                    (f"worker:{w.name}:0,1", f"{w.name} · 2 GPUs on one node"),
                    (f"worker:{w.name}:cpu", f"{w.name} · CPU only")]
            continue
        for g in w.gpus:
            out.append((f"worker:{w.name}:{g['index']}",
                        f"{w.name} · cuda:{g['index']} · {g['name']} ({g['memory'] / 2**30:.0f} GB)"))
        out.append((f"worker:{w.name}:cpu", f"{w.name} · CPU"))
    if out:  # one queue across workers: the job waits until a worker has a GPU free (app.jobs.placement)
        out.append(("worker:any-gpu:", ANY_GPU_LABEL))
    return out


def split_device(value: str) -> tuple[str | None, str]:
    """``worker:box:0`` → ("box", "0"); ``0`` → (None, "0")."""
    if value.startswith("worker:"):
        _, name, device = value.split(":", 2)
        return name, device
    return None, value

