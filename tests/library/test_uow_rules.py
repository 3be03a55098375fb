"""House rules of the unit-of-work change, checked on the source: no module reaches into another's private names.

A private name (``_x``, not a dunder) belongs to its module or its object. Two ways of
reaching into one from outside are refused across ``app/`` and ``remote_agent/``:
``from app.x import _y`` (or ``remote_agent``, or a relative import), and a call
``something._y(…)`` on anything but ``self``/``cls`` (``lib._write()``,
``importer._unique_name(…)``, ``manager._spawn(…)``). Calls into the standard library's
documented underscore functions (``os._exit``) are not ours and are allowed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("app", "remote_agent")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _foreign_modules(tree: ast.AST) -> set[str]:
    """Names bound by ``import x`` of modules that are not ours (``os``, ``sys``…): their underscores are theirs."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in OUR_PACKAGES:
                    bound.add(alias.asname or alias.name.split(".")[0])
    return bound


def private_reaches(source: str, filename: str) -> list[str]:
    """Every place in ``source`` that imports or calls another module's or object's private name."""
    tree = ast.parse(source, filename)
    foreign = _foreign_modules(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            ours = node.level > 0 or (node.module or "").split(".")[0] in OUR_PACKAGES
            for alias in node.names:
                if ours and _private(alias.name):
                    found.append(f"{filename}:{node.lineno}: from {'.' * node.level}{node.module or ''} "
                                 f"import {alias.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _private(node.func.attr):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id in ("self", "cls") or owner.id in foreign):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node.func)}(…)")
    return found


def _our_sources() -> list[Path]:
    return sorted(p for pkg in OUR_PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if "migrations" not in p.parts)  # Alembic's scripts are loaded by Alembic, not imported


def test_the_checker_sees_each_kind_of_reach() -> None:
    source = ("import os\nfrom app.library.rows import _hidden\nfrom .importer import _row\n"
              "lib._write()\nself.lib._read()\nself._mine()\nsuper()._init()\nos._exit(0)\n")
    found = private_reaches(source, "sample.py")
    assert [f.split(": ", 1)[1] for f in found] == [
        "from app.library.rows import _hidden", "from .importer import _row", "lib._write(…)", "self.lib._read(…)"]


def test_no_module_reaches_into_another_modules_private_names() -> None:
    sources = _our_sources()
    assert len(sources) > 50  # the whole tree was read, not an empty glob
    found = [f for p in sources for f in private_reaches(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "private names used from outside their module:\n" + "\n".join(found)


def test_import_contracts_hold_including_no_cycles() -> None:
    """pyproject's import-linter contracts, the acyclic ones included (grimp sees in-function imports too)."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "No import cycles in the library, the jobs and the exporters KEPT" in done.stdout
    assert "The export controller does not know the main window KEPT" in done.stdout
