"""New Model remembers its last settings in the library home's ``window.ini`` (one library, its own data sets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

GROUP = "new_model"


def settings_at(path: Path) -> QSettings:
    """The INI file at ``path`` (created on the first save)."""
    return QSettings(str(path), QSettings.Format.IniFormat)


def save_fields(settings: QSettings, fields: dict[str, QWidget]) -> None:
    """Write each field's value under its name."""
    settings.beginGroup(GROUP)
    for name, w in fields.items():
        settings.setValue(name, _value(w))
    settings.endGroup()
    settings.sync()


def restore_fields(settings: QSettings, fields: dict[str, QWidget]) -> None:
    """Put back the values saved last; a missing or unreadable one leaves the field's default."""
    settings.beginGroup(GROUP)
    for name, w in fields.items():
        if settings.contains(name):
            _set_value(w, settings.value(name))
    settings.endGroup()


def _value(w: QWidget) -> Any:
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    if isinstance(w, QComboBox):
        return w.currentText() if w.isEditable() else (w.currentData() if w.currentData() is not None
                                                       else w.currentText())
    raise TypeError(f"no saved value for {type(w).__name__}")


def _set_value(w: QWidget, value: Any) -> None:
    try:
        if isinstance(w, QCheckBox):
            w.setChecked(str(value).lower() == "true")  # INI files hold text
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))
        elif isinstance(w, QComboBox):
            if w.isEditable():
                w.setCurrentText(str(value))
            else:
                i = w.findData(value)
                i = i if i >= 0 else w.findText(str(value))
                if i >= 0:  # a choice no longer offered (a GPU gone) keeps the default
                    w.setCurrentIndex(i)
    except (TypeError, ValueError):
        pass  # a hand-edited file: that field keeps its default
