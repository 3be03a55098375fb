"""The layer rules of ARCHITECTURE.md: import-linter's contracts (pyproject.toml), and fresh-interpreter imports."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph", "superqt")
# ARCHITECTURE.md's "may import Qt? no" rows; app.deploy is listed before it exists so its arrival is not missed.
QT_FREE_PACKAGES = ["app.library", "app.jobs", "app.exporters", "app.predict", "app.deploy", "app.validation",
                    "remote_agent"]
QT_FREE_TOP_MODULES = ["app.offline", "app.paths", "app.demo_data"]


def _cli_modules() -> list[str]:
    """Every command-line module: the flat app/cli*.py files, or an app/cli/ package's modules."""
    mods = [f"app.{p.stem}" for p in sorted((ROOT / "app").glob("cli*.py"))]
    if (ROOT / "app" / "cli" / "__init__.py").exists():
        mods += _package_modules("app.cli")
    return mods


def _package_modules(pkg: str) -> list[str]:
    """The package and every module in it, subpackages included (folders without __init__.py are data)."""
    base = ROOT / pkg.replace(".", "/")
    mods = []
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if not all((ROOT / Path(*rel.parts[:i]) / "__init__.py").exists() for i in range(1, len(rel.parts))):
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods.append(".".join(parts))
    return mods


def _params() -> list:
    params = [pytest.param(m, id=m) for m in QT_FREE_TOP_MODULES + _cli_modules()]
    for pkg in QT_FREE_PACKAGES:
        if not (ROOT / pkg.replace(".", "/") / "__init__.py").exists():
            # Said out loud (-ra lists it), not dropped: the package is in the rule but not in the tree yet.
            params.append(pytest.param(pkg, id=pkg, marks=pytest.mark.skip(reason=f"{pkg} does not exist yet")))
            continue
        params += [pytest.param(m, id=m) for m in _package_modules(pkg)]
    return params


def test_the_qt_free_packages_are_packages():
    """A folder without __init__.py is invisible to import-linter: its contract would pass while checking nothing."""
    missing = [p for p in QT_FREE_PACKAGES if (ROOT / p.replace(".", "/")).is_dir()
               and not (ROOT / p.replace(".", "/") / "__init__.py").exists()]
    assert not missing, f"no __init__.py in {missing}"


# Imports the modules named on stdin one after another in this fresh interpreter, each judged before any Qt is
# loaded: a JSON line per module (the Qt modules its import loaded, or its import's error), and an exit after the
# first module that loaded Qt, so that every later module is judged in a fresh interpreter again.
_JUDGE = """
import importlib, json, sys, traceback
for name in sys.stdin.read().split():
    try:
        importlib.import_module(name)
        said = {"module": name, "qt": [m for m in QT if m in sys.modules]}
    except BaseException:
        said = {"module": name, "error": traceback.format_exc()[-2000:]}
    print(json.dumps(said), flush=True)
    if said.get("qt"):
        break
"""


@pytest.fixture(scope="module")
def fresh_imports() -> dict[str, dict]:
    """Each Qt-free module's import in an interpreter that has loaded no Qt yet (a handful of processes, not one per
    module: one ran 0.6 s a module, 45 s for the suite)."""
    left = [p.values[0] for p in _params() if not p.marks]
    judged: dict[str, dict] = {}
    while left:
        out = subprocess.run([sys.executable, "-c", f"QT = {QT!r}\n" + _JUDGE], input=" ".join(left),
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
        lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        if not lines:  # the interpreter itself died on the first module
            judged[left[0]] = {"module": left[0], "error": out.stderr[-2000:] or f"exit {out.returncode}"}
            lines = [judged[left[0]]]
        for said in lines:
            judged[said["module"]] = said
        left = [m for m in left if m not in judged]
    return judged


@pytest.mark.parametrize("module", _params())
def test_module_does_not_load_qt(module, fresh_imports):
    said = fresh_imports[module]
    assert "error" not in said, said.get("error")
    assert said["qt"] == [], f"{module} loaded {said['qt']}"


def test_the_contract_covers_every_qt_free_module():
    """The forbidden contract names every existing Qt-free package and CLI module (a new one is not left out)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if "PySide6" in c["forbidden_modules"])
    present = [p for p in QT_FREE_PACKAGES if (ROOT / p.replace(".", "/") / "__init__.py").exists()]
    top_level_cli = [m for m in _cli_modules() if m.count(".") == 1]
    wanted = set(present + QT_FREE_TOP_MODULES + top_level_cli)
    assert wanted - set(contract["source_modules"]) == set()


def test_import_linter_contracts_are_kept():
    """lint-imports (this venv's) checks every contract; in-function imports count. Its report is the failure."""
    lint = Path(sys.executable).parent / "lint-imports"
    assert lint.exists(), f"{lint} missing: pip install -e '.[test]' installs import-linter"
    out = subprocess.run([str(lint), "--no-cache", "--no-logo"], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_remote_agent_imports_nothing_from_app():
    """A text check beside the contract: it also sees code the agent keeps in strings (``python -c`` snippets)."""
    for path in (ROOT / "remote_agent").rglob("*.py"):
        text = path.read_text()
        assert "from app" not in text and "import app" not in text, path
        assert "sqlalchemy" not in text.lower(), path
