"""The Qt-free core stays free of Qt (ARCHITECTURE.md's layer rule), checked in fresh interpreters."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT_FREE_PACKAGES = ["app.library", "app.jobs", "app.exporters", "app.predict", "app.deploy", "remote_agent"]
QT_FREE_MODULES = ["app.cli", "app.cli_jobs", "app.cli_exports", "app.cli_workers", "app.offline", "app.paths",
                   "app.demo_data"]


def _modules() -> list[str]:
    mods = list(QT_FREE_MODULES)
    for pkg in QT_FREE_PACKAGES:
        path = ROOT / pkg.replace(".", "/")
        if not path.exists():
            continue
        mods.append(pkg)
        mods += [f"{pkg}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return mods


@pytest.mark.parametrize("module", _modules())
def test_module_does_not_load_qt(module):
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            "bad = [m for m in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'superqt') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_remote_agent_imports_nothing_from_app():
    for path in (ROOT / "remote_agent").rglob("*.py"):
        text = path.read_text()
        assert "from app" not in text and "import app" not in text, path
        assert "sqlalchemy" not in text.lower(), path
