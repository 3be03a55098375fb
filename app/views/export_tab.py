"""The model page's Export tab: every format, whether it can run here, its last export, and its arguments."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QMenu, QMessageBox, QProgressBar, QPushButton,
    QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget,
)

from app.exporters.availability import for_model
from app.exporters.int8 import INT8_SLOTS, accuracy_of, cell_text, row_format, row_text
from app.exporters.registry import FORMATS, ExportFormat
from app.exporters.store import ExportRecord
from app.jobs.trust import REFUSAL_CODES
from app.library.records import ModelRecord
from app.qt.model_table import fmt_size
from app.views.export_arguments import ArgumentForm, arguments_changed, model_imgsz
from app.views.export_precision import set_precision_menu
from app.views.trust_prompt import ask_trust
from app.widgets.badge import badge_color

AVAILABILITY_TEXT = {"ready": "ready", "needs-toolchain": "needs toolchain", "needs-gpu": "needs GPU worker",
                     "vendor-sdk": "vendor SDK", "unsupported-platform": "not on this OS",
                     "not-for-model": "not for this model"}
COLUMNS = ("Format", "Availability", "Status", "Size", "Verified", "Time")
ACTIVE = ("Queued", "Starting", "Running")


class ExportTab(QWidget):
    """Shows a model's exports; asks the window to run, cancel, download or delete them."""

    exportRequested = Signal(str, dict, str)  # format, args, worker ("local" or a worker's name)
    exportAllRequested = Signal()
    deleteAllRequested = Signal()
    cancelRequested = Signal(str)  # job id
    downloadRequested = Signal(str)  # export id
    deleteRequested = Signal(str)  # export id
    installToolchainRequested = Signal(str)  # toolchain name (also: reinstall to repair it)
    removeToolchainRequested = Signal(str)  # toolchain name
    trustRetryRequested = Signal(str)  # job id: the user trusts the weights the loading gate refused; export again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: ModelRecord | None = None
        self.exports: dict[str, ExportRecord] = {}
        self.availability: dict[str, tuple[str, str]] = {}
        self.targets: list[tuple[str, str, str, bool]] = []
        self.where: dict[str, str] = {}  # format → where its latest export ran ("local" or a worker)
        self._form_for: tuple[str, str] | None = None  # (model id, format) the argument form was built for
        self.run_on = QComboBox()
        self.run_on.setToolTip("Where the export runs: this machine, or a worker (its GPU for TensorRT)")
        self.run_on.currentIndexChanged.connect(self._on_run_on_changed)
        self.table = QTableWidget(len(FORMATS), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # names in full ("TensorFlow SavedModel")
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(56)
        self.table.setAlternatingRowColors(True)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.export_all = QPushButton("Export All")
        self.export_all.setToolTip("Queue every CPU format that is ready here, with default settings")
        self.export_all.clicked.connect(self.exportAllRequested.emit)
        self.delete_all = QPushButton("Delete All")
        self.delete_all.setObjectName("danger")
        self.delete_all.clicked.connect(self.deleteAllRequested.emit)
        top = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        top.addWidget(self.summary)
        top.addStretch(1)
        top.addWidget(self.export_all)
        top.addWidget(self.delete_all)

        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setObjectName("muted")
        self.form = ArgumentForm()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.download_button = QPushButton("Download…")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.install_button = QPushButton("Install toolchain")
        self.install_button.setToolTip("Create this format's own environment and install its packages (the app's "
                                       "environment is not touched)")
        self.install_button.clicked.connect(self._on_install_clicked)
        self.toolchain_button = QToolButton()  # shown when the format's toolchain is installed
        self.toolchain_button.setText("Toolchain")
        self.toolchain_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.toolchain_button.setToolTip("This format's own environment: reinstall it if it is damaged, or remove it")
        menu = QMenu(self.toolchain_button)
        self.reinstall_action = menu.addAction("Reinstall (repair)", lambda: self._toolchain_action(
            self.installToolchainRequested))
        self.remove_action = menu.addAction("Remove…", lambda: self._toolchain_action(self.removeToolchainRequested))
        self.toolchain_button.setMenu(menu)
        self.toolchain_button.hide()
        self.install_bar = QProgressBar()
        self.install_bar.setRange(0, 1000)
        self.install_bar.setTextVisible(True)
        self.install_bar.hide()
        self._install = None
        self._installing = None  # the toolchain being installed, removed or repaired
        self.trust_button = QPushButton("Trust this file and retry")
        self.trust_button.setToolTip("The loading gate refused these weights; load them anyway if you trust them")
        self.trust_button.clicked.connect(self._on_trust_clicked)
        self.trust_button.hide()
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("danger")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        run_row = QHBoxLayout()
        run_row.addWidget(QLabel("Run on"))
        run_row.addWidget(self.run_on, 1)
        buttons = QHBoxLayout()
        for b in (self.install_button, self.export_button, self.cancel_button, self.download_button, self.delete_button,
                  self.toolchain_button, self.trust_button):
            buttons.addWidget(b)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.addWidget(self.title)
        sl.addWidget(self.why)
        sl.addWidget(self.form)
        sl.addLayout(run_row)
        sl.addLayout(buttons)
        sl.addWidget(self.install_bar)
        sl.addWidget(self.detail)
        sl.addStretch(1)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(side)
        split.setSizes([700, 380])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 10, 4, 4)
        lay.addLayout(top)
        lay.addWidget(split, 1)

    # ------------------------------------------------------------------ show
    def show_model(self, model: ModelRecord, exports: list[ExportRecord],
                   availability: dict[str, tuple[str, str]]) -> None:
        self.model = model
        self.exports = {e.format: e for e in exports}
        self.availability = for_model(model.task, model.architecture, availability)
        availability = self.availability
        for row, fmt in enumerate(FORMATS):
            state, why = availability.get(fmt.argument, ("ready", ""))
            e = self.exports.get(fmt.argument)
            elapsed = ""
            if e is not None and e.status in ACTIVE:
                elapsed = f"{int((datetime.now(timezone.utc) - e.created_at).total_seconds())} s"
            elif e is not None and e.seconds:
                elapsed = f"{e.seconds:.1f} s"
            verified = ("yes" if e.verified else "no") if e and e.status == "Completed" else "—"
            int8 = self.exports.get(INT8_SLOTS.get(fmt.argument, ""))
            if int8 is not None:  # the INT8 export of this format, beside its FP32 one: its accuracy check
                verified = cell_text(int8) if verified == "—" else f"{verified} · {cell_text(int8)}"
            cells = (fmt.name, AVAILABILITY_TEXT.get(state, state), e.status if e else "—",
                     fmt_size(e.size) if e and e.size else "—", verified, elapsed)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 1:
                    item.setToolTip(why)
                    item.setForeground(QColor("#15803d" if state == "ready" else "#6b7280"))
                if col == 2 and e is not None:
                    item.setForeground(QColor(badge_color("status", e.status)))
                    item.setToolTip(e.error or e.verification or "")
                if col == 4 and e is not None and e.status == "Completed":
                    item.setToolTip(e.verification or "")
                if col == 4 and int8 is not None:
                    check = accuracy_of(int8)
                    item.setToolTip("\n".join(t for t in (item.toolTip(), row_text(int8), int8.error or "") if t))
                    if check is not None and not check.accurate:
                        item.setForeground(QColor("#b45309"))  # kept, but never picked automatically
                self.table.setItem(row, col, item)
        done = sum(1 for e in exports if e.status == "Completed")
        ready = sum(1 for s, _ in availability.values() if s == "ready")
        self.summary.setText(f"{done} export(s) · {ready} of {len(FORMATS)} formats ready on this machine for this model")
        self.delete_all.setEnabled(done > 0)
        self.export_all.setEnabled(model.has_weights)
        if not self.table.selectedItems():
            self.table.selectRow(0)
        else:
            self._on_table_selection_changed()

    def set_targets(self, targets: list[tuple[str, str, str, bool]]) -> None:
        """Workers this model can be exported on: (worker, device, label, has GPU + tensorrt)."""
        self.targets = targets
        self._fill_run_on()

    def _fill_run_on(self) -> None:
        fmt = self.current_format()
        gpu_only = fmt is not None and fmt.needs_gpu
        current = self.run_on.currentData()
        self.run_on.blockSignals(True)
        self.run_on.clear()
        if not gpu_only:
            self.run_on.addItem("This machine", ("local", ""))
        for worker, device, label, trt in self.targets:
            if gpu_only and (device == "cpu" or not trt):
                continue
            self.run_on.addItem(label, (worker, device))
        if self.run_on.count() == 0:
            self.run_on.addItem("no GPU worker with tensorrt: add one under Workers", None)
        idx = self.run_on.findData(current)
        self.run_on.setCurrentIndex(max(idx, 0))
        self.run_on.blockSignals(False)

    def target(self) -> tuple[str, str] | None:
        return self.run_on.currentData()

    def _on_run_on_changed(self, _index: int) -> None:
        self._on_table_selection_changed()

    def current_format(self) -> ExportFormat | None:
        rows = self.table.selectionModel().selectedRows()
        return FORMATS[rows[0].row()] if rows else None

    # ------------------------------------------------------------------ slots
    def _on_table_selection_changed(self) -> None:
        fmt = self.current_format()
        if fmt is None or self.model is None:
            return
        state, why = self.availability.get(fmt.argument, ("ready", ""))
        e = self.exports.get(fmt.argument)
        if getattr(self, "_run_on_for", None) != fmt.argument:
            self._run_on_for = fmt.argument
            self._fill_run_on()
        target = self.target()
        remote = target is not None and target[0] != "local"
        if remote and state != "not-for-model":  # the worker checks its own packages when the export is submitted
            state, why = "ready", f"Runs on {self.run_on.currentText()}; the artifact comes back into the library."
        self.title.setText(f"{fmt.name}  ·  format={fmt.argument}")
        self.why.setText(("Ready to export here." if state == "ready" and not remote else why)
                         + (f"\nNote: {fmt.notes}" if fmt.notes else ""))
        if self.form.editors.get("imgsz") is None or self._form_for != (self.model.id, fmt.argument):
            # keyed by model too: a new model's form starts from its own imgsz and task, never the last one's values
            self.form.show_format(fmt, model_imgsz(self.model.imgsz), self.model.task)
            self._form_for = (self.model.id, fmt.argument)
        int8 = self.exports.get(INT8_SLOTS.get(fmt.argument, ""))
        active = any(x is not None and x.status in ACTIVE for x in (e, int8))
        from app.exporters.toolchains import toolchain_for

        tc = toolchain_for(fmt.argument)
        self.install_button.setVisible(state == "needs-toolchain" and tc is not None)
        self.toolchain_button.setVisible(tc is not None and state == "ready" and not remote and self._install is None)
        self.install_button.setText(f"Install {tc.name} toolchain (~{tc.download_mb:,} MB)" if tc else "Install toolchain")
        self.export_button.setEnabled(state == "ready" and target is not None and not active and self.model.has_weights)
        self.cancel_button.setVisible(active)
        done = e is not None and e.status == "Completed"
        # Download / Delete: the format's one export, or a FP32 / INT8 menu when it has both
        pair = [x for x in (e, int8) if x is not None]
        self.download_button.setEnabled(any(x.status == "Completed" for x in pair))
        self.delete_button.setEnabled(any(x.status not in ACTIVE for x in pair))
        set_precision_menu(self.download_button, e, int8, lambda x: x.status == "Completed", self.downloadRequested.emit)
        set_precision_menu(self.delete_button, e, int8, lambda x: x.status not in ACTIVE, self.deleteRequested.emit)
        self.trust_button.setVisible(e is not None and e.status == "Failed" and bool(e.job_id)
                                     and (e.error or "").startswith(tuple(f"{c}:" for c in REFUSAL_CODES)))
        if e is None:
            self.detail.setText("")
        elif e.status == "Failed":
            self.detail.setText(f"<span style='color:#b91c1c'><b>Failed:</b> {e.error}</span>")
        elif done:
            detail = e.verification or ""  # (an INT8 export's check follows below)
            verdict = "Verified" if e.verified else "Not verified"
            if detail.startswith("exported, not verified: "):
                detail = detail.removeprefix("exported, not verified: ")
            ran = self.where.get(fmt.argument, "local")
            on = f" (built on {ran})" if ran != "local" else ""
            self.detail.setText(f"<b>{verdict}</b>{on}: {detail}<br>{e.path}")
        else:
            ran = self.where.get(fmt.argument, "local")
            self.detail.setText(f"{e.status}" + (f" on {ran}" if ran != "local" else "") + "…")
        self._show_int8(fmt)

    def _show_int8(self, fmt: ExportFormat) -> None:
        """Add the INT8 export's state and accuracy check under the FP32 export's detail."""
        int8 = self.exports.get(INT8_SLOTS.get(fmt.argument, ""))
        if int8 is None:
            return
        check = accuracy_of(int8)
        line = row_text(int8)
        if check is not None and not check.accurate:
            line = (f"<span style='color:#b45309'>{line}: kept, but never chosen automatically "
                    "(Predict offers it by hand)</span>")
        elif int8.status == "Failed":
            line = f"<span style='color:#b91c1c'>INT8 failed: {int8.error}</span>"
        self.detail.setText("<br>".join(t for t in (self.detail.text(), line + (f"<br>{int8.path}" if int8.path else ""))
                                        if t))

    def _on_install_clicked(self) -> None:
        self.install_button.setEnabled(False)
        self._toolchain_action(self.installToolchainRequested)

    def _toolchain_action(self, signal: Any) -> None:
        from app.exporters.toolchains import toolchain_for

        fmt = self.current_format()
        tc = toolchain_for(fmt.argument) if fmt else None
        if tc is None:
            self.install_button.setEnabled(True)
            return
        self.toolchain_button.setEnabled(False)
        self._installing = tc
        signal.emit(tc.name)

    def show_install_progress(self, line: str) -> None:
        from app.exporters.toolchains import InstallProgress

        if self._install is None:  # a separate environment resolves its whole stack: ~70 packages, not ~20
            separate = self._installing is not None and not self._installing.layered
            self._install = InstallProgress(expected=70 if separate else 20)
            self.install_bar.show()
        self._install.feed(line)
        self.install_bar.setValue(int(self._install.fraction * 1000))
        self.install_bar.setFormat(f"%p% · {self._install.label}")
        self.detail.setText(f"Installing… {line[-160:]}")

    def install_finished(self) -> None:
        self._install = None
        self._installing = None
        self.install_bar.hide()
        self.install_button.setEnabled(True)
        self.toolchain_button.setEnabled(True)

    def _on_export_clicked(self) -> None:
        fmt = self.current_format()
        target = self.target()
        if fmt is not None and target is not None:
            args = self.form.values()
            if target[0] != "local":
                args["device"] = target[1]
            if not self._replace_confirmed(fmt, args):
                return
            self.exportRequested.emit(fmt.argument, args, target[0])

    def _replace_confirmed(self, fmt: ExportFormat, args: dict[str, Any]) -> bool:
        """Ask before a new export replaces a verified one of the same format, saying what differs."""
        e = self.exports.get(row_format(fmt.argument, args))  # an INT8 export replaces only the INT8 one
        if e is None or e.status != "Completed" or not e.verified:
            return True
        changed = arguments_changed({k: v for k, v in e.args.items() if k != "format"}, args)
        what = ("With: " + ", ".join(changed) + ".") if changed else "With the same arguments."
        answer = QMessageBox.question(self, "Replace export", f"This model already has a verified {fmt.name} export; "
                                      f"exporting again replaces it.\n{what}\nReplace it?")
        return answer == QMessageBox.StandardButton.Yes

    def _on_cancel_clicked(self) -> None:
        fmt = self.current_format()
        rows = (self.exports.get(fmt.argument), self.exports.get(INT8_SLOTS.get(fmt.argument, ""))) if fmt else ()
        for e in rows:  # the FP32 or the INT8 export of this format, whichever runs
            if e is not None and e.job_id and e.status in ACTIVE:
                self.cancelRequested.emit(e.job_id)

    def _acted_on(self, fmt: ExportFormat | None) -> ExportRecord | None:
        """The export Download and Delete act on: the format's FP32 export, else its INT8 one."""
        if fmt is None:
            return None
        return self.exports.get(fmt.argument) or self.exports.get(INT8_SLOTS.get(fmt.argument, ""))

    def _on_download_clicked(self) -> None:
        e = self._acted_on(self.current_format())
        if e is not None and self.download_button.menu() is None:  # with a menu, its FP32 / INT8 entry acts
            self.downloadRequested.emit(e.id)

    def _on_trust_clicked(self) -> None:
        fmt = self.current_format()
        e = self.exports.get(fmt.argument) if fmt else None
        if e is not None and e.job_id:
            job_id = e.job_id
            ask_trust(self, e.error or "", "Trust and retry", lambda: self.trustRetryRequested.emit(job_id))

    def _on_delete_clicked(self) -> None:
        e = self._acted_on(self.current_format())
        if e is not None and self.delete_button.menu() is None:  # with a menu, its FP32 / INT8 entry acts
            self.deleteRequested.emit(e.id)


def suggested_export_name(model_name: str, export_format: str, src_name: str, is_dir: bool = False) -> str:
    """What Save offers for an export: ``<model name>-<format>`` and the export's own extension.

    ultralytics names every export after its weights file ("weights.onnx"), which says nothing once saved.
    """
    stem = "".join(c if c.isalnum() or c in "-_. " else "_" for c in model_name).strip(" .") or "model"
    if is_dir:
        return f"{stem}-{export_format}"
    suffix = src_name[src_name.rfind("."):] if "." in src_name else ""
    return f"{stem}-{export_format}{suffix}"
