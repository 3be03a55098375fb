"""Helpers for the store tests: valid checkpoint variants, CLI runs in fresh processes, library snapshots."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


_VARIANTS = r"""
import sys, torch
ckpt = torch.load(sys.argv[1], weights_only=False)
for i, out in enumerate(sys.argv[2:]):
    ckpt["date"] = f"2025-01-01T00:00:{i:05d}"  # another sha256, still the same valid checkpoint
    torch.save(ckpt, out)
"""


def variants(good: Path, dests: list[Path]) -> list[Path]:
    """Copies of ``good`` saved by torch itself with another date each: different bytes, same valid layout."""
    subprocess.run([sys.executable, "-c", _VARIANTS, str(good), *map(str, dests)], check=True, cwd=ROOT,
                   timeout=300, capture_output=True)
    return dests


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
