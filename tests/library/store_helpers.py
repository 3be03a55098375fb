"""Helpers for the store tests: valid checkpoint variants, CLI runs in fresh processes, library snapshots."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variant(good: Path, dest: Path, n: int) -> Path:
    """A copy of ``good`` whose zip comment differs: another sha256, still the same valid checkpoint."""
    shutil.copyfile(good, dest)
    with zipfile.ZipFile(dest, "a") as z:
        z.comment = f"variant {n}".encode()
    return dest


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``yolodesk ARGS`` in a fresh process with ``YOLODESK_HOME=home``."""
    env = {**os.environ, "YOLODESK_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=timeout)


def python(code: str, home: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``code`` in a fresh interpreter (argv: args) with the library home set."""
    env = {**os.environ, "YOLODESK_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)


def file_state(path: Path) -> tuple[str, int]:
    """(sha256, mtime in ns) of a file: what "the file was not changed" is checked against."""
    return sha(path), path.stat().st_mtime_ns
