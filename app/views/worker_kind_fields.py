"""The Add worker dialog's Kind choice (SSH / Slurm / Ray) and each kind's fields, shown only for that kind.

The fields are what ``yolodesk workers add … --kind slurm`` takes; they are checked by
:class:`app.jobs.slurm_batch.SlurmOptions` (the one place that knows what sbatch accepts).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from app.jobs.placement import CLUSTER_KINDS, DEFAULT_MAX_SUBMISSIONS
from app.jobs.ray_options import DEFAULT_DASHBOARD_PORT, DEFAULT_GPUS, RayOptions, store_ray_token
from app.jobs.slurm_batch import SlurmOptions, parse_env
from app.jobs.workers import WorkerRecord, WorkerStore

KINDS = (("SSH — run jobs on the host itself", "ssh"), ("Slurm — the host is a login node; jobs go through sbatch",
                                                       "slurm"),
         ("Ray — the host is a Ray head; jobs go through its Jobs API", "ray"))


class WorkerKindFields(QObject):
    """A Kind combo and the Slurm rows of a form; :meth:`values` gives ``(kind, options)`` for ``WorkerStore.add``."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.kind = QComboBox(parent)
        for label, key in KINDS:
            self.kind.addItem(label, key)
        self.partition = QLineEdit(parent)
        self.partition.setPlaceholderText("the cluster's default partition")
        self.account = QLineEdit(parent)
        self.account.setPlaceholderText("your default account")
        self.gres = QLineEdit(parent)
        self.gres.setPlaceholderText("e.g. gpu:1 (empty: no GPU asked for)")
        self.time = QLineEdit(parent)
        self.time.setPlaceholderText("e.g. 04:00:00 (empty: the partition's limit)")
        self.cpus = QSpinBox(parent)
        self.cpus.setRange(0, 512)
        self.cpus.setSpecialValueText("the cluster's default (Slurm: 1; Ray: none asked)")
        self.ray_gpus = QSpinBox(parent)
        self.ray_gpus.setRange(0, 64)
        self.ray_gpus.setValue(DEFAULT_GPUS)
        self.ray_gpus.setSpecialValueText("none (CPU jobs: a cluster without GPUs)")
        self.ray_gpus.setToolTip("GPUs a job asks Ray for when it names no device; Ray picks the node that has them")
        self.mem = QLineEdit(parent)
        self.mem.setPlaceholderText("e.g. 16G (empty: the cluster's default; no unit: MB)")
        self.env = QLineEdit(parent)
        self.env.setPlaceholderText("e.g. SLURM_CONF=/etc/slurm/slurm.conf (space-separated)")
        self.env.setToolTip("Variables set for every Slurm command on the login node and exported to the job")
        self.dashboard_port = QSpinBox(parent)
        self.dashboard_port.setRange(1, 65535)
        self.dashboard_port.setValue(DEFAULT_DASHBOARD_PORT)
        self.dashboard_port.setToolTip("The dashboard's port on the head's loopback; reached through an SSH tunnel")
        self.ray_token = QLineEdit(parent)
        self.ray_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.ray_token.setPlaceholderText("the cluster's RAY_AUTH_TOKEN (kept as a secret, never in the library)")
        self.max_submissions = QSpinBox(parent)
        self.max_submissions.setRange(1, 1000)
        self.max_submissions.setValue(DEFAULT_MAX_SUBMISSIONS)
        self.max_submissions.setToolTip("How many jobs of ours the cluster may hold at once; it queues them itself")
        self._form: QFormLayout | None = None
        self.kind.currentIndexChanged.connect(self._on_kind_current_index_changed)

    @property
    def slurm_rows(self) -> list[tuple[str, QWidget]]:
        return [("Partition", self.partition), ("Account", self.account), ("GPUs (gres)", self.gres),
                ("Time limit", self.time), ("Environment", self.env)]

    @property
    def ray_rows(self) -> list[tuple[str, QWidget]]:
        return [("Dashboard port", self.dashboard_port), ("Ray token", self.ray_token), ("GPUs per job", self.ray_gpus)]

    @property
    def cluster_rows(self) -> list[tuple[str, QWidget]]:
        """Rows both cluster kinds have: what each job asks for besides GPUs."""
        return [("CPUs per job", self.cpus), ("Memory per job", self.mem)]

    def add_rows(self, form: QFormLayout) -> None:
        """Put the Kind row and the (hidden until Slurm is chosen) Slurm rows at the end of ``form``."""
        self._form = form
        form.addRow("Kind", self.kind)
        for label, widget in self.slurm_rows + self.ray_rows + self.cluster_rows:
            form.addRow(label, widget)
        form.addRow("Jobs at once", self.max_submissions)
        self._on_kind_current_index_changed()

    def placeholder_fields(self) -> list[QLineEdit]:
        """The line edits whose placeholder must be shown whole (for the dialog's width)."""
        return [self.partition, self.account, self.gres, self.time, self.mem, self.env, self.ray_token]

    def values(self) -> tuple[str, dict[str, Any] | None]:
        """``("ssh", None)`` or ``(kind, options)``; raises SlurmOptionError or RayOptionError naming a bad field."""
        kind = str(self.kind.currentData())
        at_once = self.max_submissions.value()
        extra = {"max_submissions": at_once} if at_once != DEFAULT_MAX_SUBMISSIONS else {}  # the default goes unsaid
        if kind == "ray":
            options = RayOptions.from_json({"dashboard_port": self.dashboard_port.value(), "gpus": self.ray_gpus.value(),
                                            "cpus": self.cpus.value() or None, "memory": self.mem.text().strip()})
            return kind, {**options.to_json(), **extra}
        if kind != "slurm":
            return kind, None
        options = SlurmOptions.from_json({
            "partition": self.partition.text().strip(), "account": self.account.text().strip(),
            "gres": self.gres.text().strip(), "time": self.time.text().strip(), "cpus": self.cpus.value() or None,
            "mem": self.mem.text().strip(), "env": parse_env(self.env.text().split())})
        return kind, {**options.to_json(), **extra}

    def secrets(self) -> dict[str, str]:
        """``{"ray_token": …}`` for a Ray worker with a token typed (the page keeps it as a secret), else {}."""
        token = self.ray_token.text().strip()
        return {"ray_token": token} if self.kind.currentData() == "ray" and token else {}

    def _on_kind_current_index_changed(self) -> None:
        if self._form is None:
            return
        slurm = self.kind.currentData() == "slurm"
        for _label, widget in self.slurm_rows:
            self._form.setRowVisible(widget, slurm)
        for _label, widget in self.ray_rows:
            self._form.setRowVisible(widget, self.kind.currentData() == "ray")
        for _label, widget in self.cluster_rows:
            self._form.setRowVisible(widget, self.kind.currentData() in CLUSTER_KINDS)
        self._form.setRowVisible(self.max_submissions, self.kind.currentData() in CLUSTER_KINDS)
        window = self._form.parentWidget().window() if self._form.parentWidget() else None
        if window is not None:
            window.adjustSize()


def add_worker(store: WorkerStore, values: dict[str, Any], ray_token: str | None) -> WorkerRecord:
    """Add the dialog's worker (run on the library thread) and keep a Ray worker's token as its secret."""
    worker = store.add(**values)
    if ray_token:
        store_ray_token(store.lib.home, worker.name, ray_token)
    return worker
