"""Shared fixtures: a temporary library home per test, real checkpoints trained once per run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The helpers every folder shares (fixtures and functions) live in one module, never in a conftest imported by tests.
pytest_plugins = ["tests.helpers"]
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "tests" / ".cache"


# Fixtures that train real models when their cache is cold: whatever needs them is slow, warm cache or not.
TRAINING_FIXTURES = {"checkpoints"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that needs a training fixture (tests that train themselves carry the mark)."""
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh library home, set as ``YOLODESK_HOME``."""
    h = tmp_path / "home"
    monkeypatch.setenv("YOLODESK_HOME", str(h))
    return h


@pytest.fixture
def lib(home: Path):
    from app.library.repository import Library

    library = Library(home)
    yield library
    library.close()


def _fixture_key() -> str:
    import importlib.metadata as md

    script = (ROOT / "tests" / "fixtures" / "make_checkpoints.py").read_bytes()
    demo = (ROOT / "app" / "demo_data.py").read_bytes()
    return hashlib.sha256(script + demo + md.version("ultralytics").encode()).hexdigest()[:12]


@pytest.fixture(scope="session")
def checkpoints() -> tuple[Path, dict]:
    """Real checkpoints of all five tasks (and old layouts), trained once and cached by script hash."""
    out = CACHE / f"checkpoints-{_fixture_key()}"
    manifest = out / "manifest.json"
    if not manifest.exists():
        shutil.rmtree(out, ignore_errors=True)  # a run cut short leaves no manifest: start again
        out.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "fixtures" / "make_checkpoints.py"), str(out)],
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.fail(f"making the checkpoint fixtures failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return out, json.loads(manifest.read_text())


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> dict[str, Path]:
    """Small synthetic data sets (written once per run) for real trainings."""
    from app.demo_data import write_dataset

    root = tmp_path_factory.mktemp("data")
    return {
        "detect": write_dataset(root / "detect", "detect", n_train=8, n_val=4, size=64),
        "detect_big": write_dataset(root / "detect_big", "detect", n_train=48, n_val=4, size=64, seed=1),
        "classify": write_dataset(root / "classify", "classify", n_train=8, n_val=4, size=64),
        "pose": write_dataset(root / "pose", "pose", n_train=8, n_val=4, size=64),
    }


@pytest.fixture(autouse=True)
def no_leaked_widgets(request: pytest.FixtureRequest):
    """Fail a test that leaves a visible top-level widget behind (pytest-qt closes the ones it was given)."""
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    app.processEvents()
    leaked = [w for w in app.topLevelWidgets() if w.isVisible() and w.windowType().name not in ("Popup", "ToolTip")]
    for w in leaked:
        w.close()
    assert not leaked, f"leaked top-level widgets: {[type(w).__name__ for w in leaked]}"
