"""Fault injection: a clone (or move) in a child process is SIGKILLed after each step it takes.

After every kill, ``check`` is clean or ``check --repair`` makes it clean, the original keeps its row and its
bytes, and the library holds either no clone or a whole one (weights matching their sha256, exports in place).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.exporters.store import ExportStore
from app.validation.store import list_validations, load_capture
from tests.library.clone_helpers import add_exports, add_validations, sha

ROOT = Path(__file__).resolve().parents[2]

# Runs in the child: counts the clone's steps and kills itself (SIGKILL: no cleanup of any kind) at step KILL_AT.
_CHILD = r"""
import errno, os, signal, sys
home, model_id, project, kill_at, mode = sys.argv[1:]
import app.library.clone as clone
from app.library.repository import Library
steps = []
def reached(step):
    steps.append(step)
    if len(steps) == int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)
clone._reached = reached
if mode == "copy":  # another filesystem: os.link says EXDEV, the clone copies and checks
    def no_link(*a, **k):
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    os.link = no_link
lib = Library(home)
rec = clone.clone_model(lib, model_id, project, move=(mode == "move"))
print("STEPS", ",".join(steps))
"""


def _run(home: Path, model_id: str, project: str, kill_at: int, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _CHILD, str(home), model_id, project, str(kill_at), mode],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def _assert_consistent_after_repair(lib) -> list[str]:
    report = lib.check(deep=True)
    repaired: list[str] = []
    if not report.clean:
        repaired = lib.check(repair=True, deep=True).repaired
        assert repaired, "check found something and repair did nothing"
    after = lib.check(deep=True)
    assert after.clean and not after.marked, (after, repaired)
    return repaired


def _steps(home: Path, model_id: str, project: str, mode: str) -> list[str]:
    proc = _run(home, model_id, project, 0, mode)  # no kill: the whole list of steps
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split("STEPS ")[1].strip().split(",")


@pytest.mark.parametrize("mode", ["link", "copy"])
def test_a_clone_killed_at_any_step_leaves_check_clean_or_repairable(lib, home, checkpoints, tmp_path, mode):
    m = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt").model
    add_exports(lib, m.id, tmp_path / "artifacts")
    (validation,) = add_validations(lib, m.id, tmp_path / "captures", count=1)
    original = sha(m.weights_path)
    lib.create_project("Dry run")
    steps = _steps(home, m.id, "Dry run", mode)
    assert steps[:3] == ["sidecar", "weights-temp", "weights"] and steps[-2:] == ["commit", "committed"]
    assert len(steps) >= 11  # two exports, each a temp folder then its rename; the validation's capture likewise
    assert steps[-4].startswith("validation-temp") and steps[-3].startswith("validation:")
    outcomes = {"old": 0, "new": 0}
    for k in range(1, len(steps) + 1):
        name = f"T{k}"
        target = lib.create_project(name)
        proc = _run(home, m.id, name, k, mode)
        assert proc.returncode == -signal.SIGKILL, (k, proc.stderr[-2000:])
        repaired = _assert_consistent_after_repair(lib)
        assert lib.model(m.id).project == "Default" and sha(m.weights_path) == original
        clones = lib.models(target.id)
        if not clones:
            outcomes["old"] += 1
            assert k <= steps.index("commit") + 1, f"killed after the commit at step {k} but no clone"
            continue
        outcomes["new"] += 1
        (c,) = clones
        assert c.parent_id == m.id and sha(c.weights_path) == original and not repaired
        assert sorted(e.format for e in ExportStore(lib).for_model(c.id)) == ["onnx", "openvino"]
        assert all(Path(e.path).exists() for e in ExportStore(lib).for_model(c.id))
        (copied,) = list_validations(lib, c.id)
        assert load_capture(copied) == load_capture(validation)
    assert outcomes == {"old": steps.index("commit") + 1, "new": 1}


def test_a_move_killed_at_any_step_leaves_the_old_or_the_new_state(lib, home, checkpoints):
    m = lib.import_checkpoint(checkpoints[0] / "classify_yolo11n.pt").model
    original = sha(m.weights_path)
    lib.create_project("Away")
    steps = _steps(home, m.id, "Away", "move")
    assert steps == ["commit", "committed"]
    for k, expected in ((1, "Away"), (2, "Default")):  # the dry run moved it to Away: move it back, killed
        proc = _run(home, m.id, "Default", k, "move")
        assert proc.returncode == -signal.SIGKILL
        _assert_consistent_after_repair(lib)
        assert lib.model(m.id).project == expected and sha(m.weights_path) == original
