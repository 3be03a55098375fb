"""No module of the app or the agent is over 450 lines (STYLE.md: a long module holds two ideas; split it by idea)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 450
PACKAGES = ("app", "remote_agent")


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def oversized(root: Path, limit: int = LIMIT) -> list[tuple[str, int]]:
    """Every ``.py`` file under the packages of ``root`` with more than ``limit`` lines, as (relative path, lines)."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            n = _lines(path)
            if n > limit:
                found.append((path.relative_to(root).as_posix(), n))
    return found


def test_the_scan_sees_every_module_and_flags_one_over_the_limit(tmp_path):
    (tmp_path / "app" / "views").mkdir(parents=True)
    (tmp_path / "remote_agent").mkdir()
    (tmp_path / "app" / "views" / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "app" / "short.py").write_text("x = 1\n" * LIMIT)
    (tmp_path / "remote_agent" / "run.py").write_text("x = 1\n" * (LIMIT + 5))
    (tmp_path / "app" / "notes.txt").write_text("x\n" * 1000)  # not a module
    assert oversized(tmp_path) == [("app/views/long.py", LIMIT + 1), ("remote_agent/run.py", LIMIT + 5)]
    assert len(list((ROOT / "app").rglob("*.py"))) > 50 and list((ROOT / "remote_agent").glob("*.py"))


def test_no_module_is_over_450_lines():
    over = oversized(ROOT)
    listing = "\n".join(f"  {path}: {n} lines" for path, n in over)
    assert not over, f"{len(over)} module(s) over {LIMIT} lines — split each by idea:\n{listing}"
