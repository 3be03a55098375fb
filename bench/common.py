"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def fixture_checkpoints() -> Path:
    found = sorted((ROOT / "tests" / ".cache").glob("checkpoints-*/manifest.json"))
    if not found:
        sys.exit("no fixture checkpoints: run the test suite once (bash packaging/bootstrap.sh test)")
    return found[-1].parent


def save(name: str, data: object) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2))
    print(f"\nwritten: {OUT / f'{name}.json'}")
