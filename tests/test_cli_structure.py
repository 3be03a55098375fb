"""The shape of the command line: every command answers --help, no CLI module is large or loads Qt when imported.

Run as a script (``python tests/test_cli_structure.py OUT_FILE``) it records a scripted session of real commands on
a temporary library (stdout, stderr and exit code of each, ids, times and temporary paths normalized), so that the
transcript before and after a refactoring of ``app/cli`` can be diffed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI_DIR = ROOT / "app" / "cli"
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph", "superqt")
# Every subcommand `yolodesk --help` has listed since the CLI was split by area (a new one is added here).
COMMANDS = ("inspect", "import", "list", "check", "delete", "restore", "rename", "download", "projects", "train",
            "jobs", "cancel", "logs", "demo-data", "workers", "predict", "toolchains", "export", "exports", "deploy",
            "endpoints", "endpoint", "clone", "trash", "visibility", "datasets", "val", "validations",
            "compare")
MAX_LINES = 450


def _yolodesk(*args: str, home: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """The installed entry point if there is one (what users run), else ``python -m app.cli``."""
    exe = Path(sys.executable).with_name("yolodesk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]
    env = dict(os.environ, YOLODESK_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)


def _listed_commands(help_text: str) -> list[str]:
    """The subcommand names of argparse's ``{a,b,c}`` choices line in the top-level help."""
    match = re.search(r"^\s+COMMAND\s*$(.*?)^\S", help_text + "\nend", re.S | re.M)
    assert match, help_text
    return re.findall(r"^    (\S+)", match.group(1), re.M)


def test_top_level_help_lists_every_command(tmp_path):
    proc = _yolodesk("--help", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: yolodesk ")
    assert sorted(_listed_commands(proc.stdout)) == sorted(COMMANDS)


# Every command's --help in one fresh interpreter (one process per command ran ~0.9 s each): app.cli's main as
# the entry point calls it, its stdout, stderr and exit status caught per command.
_ALL_HELP = """
import contextlib, io, json, sys
from app.cli import main
said = {}
for command in sys.argv[1:]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([command, "--help"])
        except SystemExit as e:
            code = e.code
    said[command] = {"code": code, "out": out.getvalue(), "err": err.getvalue()}
print(json.dumps(said))
"""


@pytest.fixture(scope="module")
def helps(tmp_path_factory) -> dict[str, dict]:
    env = dict(os.environ, YOLODESK_HOME=str(tmp_path_factory.mktemp("home")), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", _ALL_HELP, *COMMANDS], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_answers_help(command, helps):
    said = helps[command]
    assert said["code"] in (0, None), said["err"]
    assert said["out"].startswith(f"usage: yolodesk {command}"), said["out"][:200]
    assert said["err"] == ""


def test_python_dash_m_app_runs_the_same_command_line(tmp_path):
    """``python -m app`` (app/__main__.py) and ``python -m app.cli`` are the entry point under other names."""
    env = dict(os.environ, YOLODESK_HOME=str(tmp_path))
    outs = [subprocess.run([sys.executable, "-m", mod, "--help"], capture_output=True, text=True, env=env, cwd=ROOT,
                           timeout=60) for mod in ("app", "app.cli")]
    assert [o.returncode for o in outs] == [0, 0], [o.stderr for o in outs]
    assert outs[0].stdout == outs[1].stdout == _yolodesk("--help", home=tmp_path).stdout


def _cli_files() -> list[Path]:
    files = sorted(CLI_DIR.glob("*.py"))
    assert len(files) >= 7, f"app/cli/ should hold a module per area, found {[f.name for f in files]}"
    return files


def test_no_cli_module_is_over_the_limit():
    sizes = {f.name: len(f.read_text().splitlines()) for f in _cli_files()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}, sizes
    assert not list((ROOT / "app").glob("cli*.py")), "the flat app/cli*.py modules are gone (app/cli/ replaces them)"


# That no CLI module loads Qt when imported is tests/test_layers.py's (every app.cli module, in a fresh interpreter).


# ---- the scripted session (a script, not a test: it records what the commands print, for a before/after diff) ----

def _normalize(text: str, home: Path, work: Path) -> str:
    text = text.replace(str(home), "<HOME>").replace(str(work), "<WORK>")
    text = re.sub(r"\b[0-9a-f]{12}\b", "<ID>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d)?", "<TIME>", text)
    return text


def record_session(out_file: Path) -> None:
    """Run the scripted session on a fresh library; write one normalized transcript to ``out_file``."""
    sys.path.insert(0, str(ROOT))
    from tests.library.hostile import hostile_payloads, torch_zip

    ckpt = next((ROOT / "tests" / ".cache").glob("checkpoints-*/detect_yolo26n.pt"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = work / "home"
        hostile = torch_zip(work / "hostile.pt", hostile_payloads(work / "pwned")["os.system"])
        log: list[str] = []

        def yd(*args: str) -> subprocess.CompletedProcess[str]:
            proc = _yolodesk(*args, home=home)
            log.append(f"$ yolodesk {' '.join(args)}\n[exit {proc.returncode}]\n--- stdout\n{proc.stdout}"
                       f"--- stderr\n{proc.stderr}")
            return proc

        help_text = yd("--help").stdout
        for command in _listed_commands(help_text):
            yd(command, "--help")
        yd("--version")
        yd("bogus-command")
        yd("inspect", str(ckpt))
        yd("inspect", "--json", str(ckpt))
        yd("inspect", str(hostile))
        yd("import", str(ckpt))
        yd("import", str(ckpt))  # a duplicate
        yd("import", "--json", str(hostile))
        yd("list")
        model_id = json.loads(yd("list", "--json").stdout)[0]["id"]
        yd("rename", model_id, "renamed-model")
        yd("rename", "no-such-model", "x")
        yd("download", model_id, str(work))
        yd("delete", "renamed-model")
        yd("list", "--trash")
        yd("restore", model_id)
        yd("restore", "no-such-model")
        yd("check")
        yd("check", "--deep")
        yd("projects")
        yd("projects", "add", "p1")
        yd("projects", "rename", "p1", "p2")
        yd("projects", "rename", "only-one")
        yd("projects", "delete", "p2")
        yd("projects", "delete", "no-such-project")
        yd("list", "--project", "no-such-project")
        yd("exports", model_id)
        yd("exports", "--json", model_id)
        yd("exports", "no-such-model")
        yd("export", model_id)
        yd("export", model_id, "notapair")
        yd("toolchains")
        yd("toolchains", "install")
        yd("workers", "list")
        yd("workers", "--json")
        yd("workers", "add")
        yd("workers", "test")
        yd("jobs")
        yd("jobs", "--json")
        yd("logs", "no-such-job")
        yd("cancel", "no-such-job")
        yd("demo-data", str(work / "demo"), "--train", "2", "--val", "1", "--size", "64")
        yd("train", "epochs=1")
        yd("train", "notapair")
        yd("train", "model=https://example.com/x.pt", "data=x.yaml")
        yd("predict", model_id, str(work / "none.jpg"), "bogus=1")
        yd("predict", model_id, str(work / "none.jpg"), "notapair")
        out_file.write_text(_normalize("\n".join(log), home, work))


if __name__ == "__main__":
    record_session(Path(sys.argv[1]))
