"""Names from files shown escaped in text output: terminal escapes in class names, file names that are not UTF-8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE_NAMES = {0: "\x1b]0;pwned\x07", 1: "\x1b[2J"}  # sets the terminal's title; clears the screen


@pytest.fixture(scope="module")
def hostile_pt(checkpoints, tmp_path_factory) -> Path:
    """A real checkpoint whose class names are terminal escape sequences."""
    import torch

    folder, _ = checkpoints
    ck = torch.load(folder / "detect_yolo26n.pt", weights_only=False)
    ck["model"].names = dict(HOSTILE_NAMES)
    out = tmp_path_factory.mktemp("hostile") / "escapes.pt"
    torch.save(ck, out)
    return out


def _yd(home: Path, *argv: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *argv], capture_output=True, env=env, timeout=120)


def test_inspect_prints_class_names_escaped_and_json_keeps_them(hostile_pt, home):
    text = _yd(home, "inspect", str(hostile_pt))
    assert text.returncode == 0, text.stderr
    assert b"\x1b" not in text.stdout and b"\x07" not in text.stdout
    assert b"classes         2: \\x1b]0;pwned\\x07, \\x1b[2J" in text.stdout
    as_json = _yd(home, "inspect", "--json", str(hostile_pt))
    assert as_json.returncode == 0 and b"\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)[0]["names"] == list(HOSTILE_NAMES.values())  # stored and given as they are


def test_a_file_name_that_is_not_utf8_gets_a_verdict_and_is_added(hostile_pt, home, tmp_path):
    odd = Path(os.fsdecode(tmp_path.as_posix().encode() + b"/\xff\xfe.pt"))
    odd.write_bytes(hostile_pt.read_bytes())
    raw = os.fsencode(odd)
    text = _yd(home, "inspect", raw)
    assert text.returncode == 0 and b"Traceback" not in text.stderr, text.stderr
    assert b"\\xff\\xfe.pt" in text.stdout and b"\xff" not in text.stdout
    as_json = _yd(home, "inspect", "--json", raw)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)[0]["path"] == odd.as_posix()
    added = _yd(home, "import", raw)
    assert added.returncode == 0 and b"Traceback" not in added.stderr, added.stderr
    assert added.stdout.startswith(b"\xe2\x9c\x93 ") and b"\\xff\\xfe.pt" in added.stdout  # "✓ …"
    listed = _yd(home, "list")
    assert listed.returncode == 0 and b"\xff" not in listed.stdout and b"\\xff\\xfe" in listed.stdout, listed.stderr
    as_json = _yd(home, "list", "--json")
    assert as_json.returncode == 0 and len(json.loads(as_json.stdout)) == 1


def test_a_file_name_with_a_terminal_escape_is_escaped_in_a_refusal(home, tmp_path):
    junk = tmp_path / "\x1b[2Jjunk\x1b]0;x\x07.pt"
    junk.write_bytes(b"\0" * 64)
    text = _yd(home, "inspect", str(junk))
    assert text.returncode == 1 and b"\x1b" not in text.stdout and b"Traceback" not in text.stderr
    assert text.stdout.startswith(b"\xe2\x9c\x97 ") and b"\\x1b[2Jjunk" in text.stdout  # "✗ …"
