"""The Export tab's argument form: one editor per argument of a format, from the selected model's size and task."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from app.exporters.registry import ARGS, ExportFormat

TASK_EXCLUDED_ARGS = {"classify": ("nms",)}  # ultralytics refuses nms=True for a classifier: no editor that cannot work


def arguments_changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two exports' arguments, one "name old → new" per argument ("default" when unset)."""
    changed = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, ARGS[name].default if name in ARGS else None), after.get(
            name, ARGS[name].default if name in ARGS else None)
        if old != new:
            changed.append(f"{name} {'default' if old is None else old} → {'default' if new is None else new}")
    return changed


def model_imgsz(imgsz: Any) -> int:
    """The size a model was trained at (its first side when it is a list), 640 when unknown."""
    if isinstance(imgsz, list) and imgsz and isinstance(imgsz[0], int):
        return max(imgsz)
    return imgsz if isinstance(imgsz, int) else 640


class ArgumentForm(QWidget):
    """Editors for one format's arguments (types, defaults and ranges from the registry)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.editors: dict[str, QWidget] = {}

    def show_format(self, fmt: ExportFormat, imgsz: int, task: str | None = None) -> None:
        """Editors for ``fmt`` with the model's ``imgsz``; options its ``task`` cannot take are left out."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        for name in ("imgsz", *fmt.args):
            if name in TASK_EXCLUDED_ARGS.get(task or "", ()):
                continue
            spec = ARGS[name]
            editor: QWidget
            if name == "quantize":
                editor = QComboBox()
                for q in fmt.quantize:
                    editor.addItem({None: "FP32 (default)", 32: "FP32", 16: "FP16", 8: "INT8"}.get(q, str(q)), q)
            elif name == "name" and fmt.chips:
                editor = QComboBox()
                for chip in fmt.chips:
                    editor.addItem(chip, chip)
                editor.setCurrentIndex(max(0, editor.findData(fmt.default_name)))
            elif spec.kind == "bool":
                editor = QCheckBox()
                editor.setChecked(bool(spec.default))
            elif spec.kind == "int":
                editor = QSpinBox()
                editor.setRange(int(spec.minimum or 0), int(spec.maximum or 10**6))
                if name == "opset":
                    editor.setSpecialValueText("default")
                    editor.setMinimum(int(spec.minimum or 7) - 1)
                    editor.setValue(editor.minimum())
                else:
                    editor.setValue(imgsz if name == "imgsz" else int(spec.default or editor.minimum()))
                if name == "imgsz":
                    editor.setSingleStep(32)
            elif spec.kind == "float":
                editor = QDoubleSpinBox()
                editor.setRange(float(spec.minimum or 0), float(spec.maximum or 1e6))
                editor.setSingleStep(0.05)
                editor.setValue(float(spec.default if spec.default is not None else editor.minimum()))
            else:
                editor = QLineEdit()
                editor.setPlaceholderText("default" if spec.default is None else str(spec.default))
            editor.setToolTip(spec.help)
            self.editors[name] = editor
            self.form.addRow(name, editor)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                out[name] = editor.currentData()
            elif isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, QSpinBox):
                if name == "opset" and editor.value() == editor.minimum():
                    continue
                out[name] = editor.value()
            elif isinstance(editor, QDoubleSpinBox):
                out[name] = editor.value()
            elif isinstance(editor, QLineEdit) and editor.text().strip():
                out[name] = editor.text().strip()
        return {k: v for k, v in out.items() if v is not None and v != ARGS[k].default or k == "imgsz"}
