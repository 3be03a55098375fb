"""A hostile user of ``yolodesk``: runs a command in a real process and reports what went wrong.

Used by tests/test_cli_hostile*.py, and as a sweep: ``python -m tests.cli_attack [CHECKPOINT]`` runs every command
with bad arguments on fresh, seeded and corrupt library homes and prints each finding (a traceback, an exit code
other than 0/1/2, rows or jobs written for a refused input, a run over 10 s).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLOW_S = 10.0
Arg = str | bytes


@dataclass
class Outcome:
    """One run of ``yolodesk ARGV``: exit code, output, seconds, and what it changed in the library."""

    argv: tuple[Arg, ...]
    code: int
    out: str
    err: str
    seconds: float
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → (rows before, rows after)

    @property
    def problems(self) -> list[str]:
        """Why this run is a finding (empty when it behaved)."""
        found = []
        if "Traceback" in self.err or "Traceback" in self.out:
            found.append("traceback: " + _last_line(self.err or self.out))
        if self.code not in (0, 1, 2):
            found.append(f"exit code {self.code}")
        if self.code != 0 and self.changed:
            found.append(f"refused but wrote rows: {self.changed}")
        if self.seconds > SLOW_S:
            found.append(f"took {self.seconds:.1f} s")
        return found


def short(argv: Sequence[Arg]) -> str:
    """ARGV for a report line: each argument's repr cut to 40 characters."""
    return " ".join(repr(a) if len(repr(a)) <= 40 else repr(a)[:37] + "…" for a in argv)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


def row_counts(home: Path) -> dict[str, int]:
    """Rows of every table of ``home/library.db`` (read-only; {} when it is not a readable database)."""
    db = home / "library.db"
    if not db.is_file():
        return {}
    try:
        # immutable: no -shm or -wal is created, so counting leaves the home exactly as the command left it
        con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True, timeout=2)
        try:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names
                    if n != "alembic_version"}
        finally:
            con.close()
    except sqlite3.Error:
        return {}


def yolodesk(home: Path, *argv: Arg, timeout: float = 60, stdin: bytes = b"", cwd: Path | None = None) -> Outcome:
    """Run ``python -m app.cli ARGV`` with ``YOLODESK_HOME=home`` and compare the library's rows before and after."""
    env = {**os.environ, "YOLODESK_HOME": os.fsdecode(home), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    before = row_counts(home)
    cmd: list[Arg] = [sys.executable, "-m", "app.cli", *argv]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, input=stdin, capture_output=True, timeout=timeout, cwd=cwd or home.parent)
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = -9, e.stdout or b"", (e.stderr or b"") + b"\n[killed: timeout]"
    seconds = time.monotonic() - start
    after = row_counts(home)
    changed = {t: (before.get(t, 0), after.get(t, 0)) for t in set(before) | set(after)
               if before.get(t, 0) != after.get(t, 0)}
    return Outcome(tuple(argv), code, out.decode(errors="replace"), err.decode(errors="replace"), seconds, changed)


# --- homes ------------------------------------------------------------------------------------------------------------

def seeded_home(root: Path, checkpoint: Path) -> tuple[Path, str]:
    """A library home holding one imported model; returns (home, model id)."""
    home = root / "seeded"
    out = yolodesk(home, "import", "--json", str(checkpoint))
    import json

    data = json.loads(out.out)
    return home, data[0]["id"]


def corrupt_homes(root: Path, good_home: Path) -> dict[str, Path]:
    """Library homes that cannot be opened, each in its own way."""
    homes: dict[str, Path] = {}

    def make(name: str) -> Path:
        h = root / f"corrupt-{name}"
        h.mkdir(parents=True)
        homes[name] = h
        return h

    (make("random-bytes") / "library.db").write_bytes(os.urandom(8192))
    (make("text-file") / "library.db").write_text("these are my notes, not a database\n")
    real = (good_home / "library.db").read_bytes()
    (make("truncated") / "library.db").write_bytes(real[: len(real) // 3])
    con = sqlite3.connect(make("foreign-sqlite") / "library.db")
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO recipes (name) VALUES ('soup')")
    con.commit()
    con.close()
    (make("db-is-folder") / "library.db").mkdir()
    f = root / "corrupt-home-is-file"
    f.write_text("not a folder")
    homes["home-is-file"] = f
    parent = root / "corrupt-parent-is-file"
    parent.write_text("not a folder")
    homes["home-under-a-file"] = parent / "home"
    return homes


# --- the sweep --------------------------------------------------------------------------------------------------------

def bad_arguments(model_id: str, tmp: Path) -> list[tuple[Arg, ...]]:
    """Every command with arguments a careless or hostile user would give."""
    fifo = tmp / "fifo.pt"
    if not fifo.exists():
        os.mkfifo(fifo)
    folder = tmp / "a-folder"
    folder.mkdir(exist_ok=True)
    nosuch = str(tmp / "nosuch.pt")
    odd: list[Arg] = ["", " ", "a\x1b[31mred\x07", os.fsencode("caf\udcff\udcfe"), "-", "x" * 5000]
    models: list[Arg] = [model_id, "nosuch", *odd]
    pair_junk = ["=", "a==b", "==", "conf=abc", "conf=2", "conf=nan", "conf=inf", "iou=-1", "imgsz=99999999",
                 "imgsz=-5", "imgsz=0", "imgsz=abc", "format=nonsense", "format=", "epochs=nan", "epochs=-1",
                 "epochs=1e309", "batch=abc", "device=cuda:99", "x=1", "imgsz=1" + "0" * 5000]
    runs: list[tuple[Arg, ...]] = []
    for cmd in ("inspect", "import", "list", "check", "delete", "restore", "rename", "download", "projects", "train",
                "jobs", "cancel", "logs", "demo-data", "workers", "predict", "toolchains", "export", "exports"):
        runs.append((cmd,))
        runs.append((cmd, "--nosuch-option"))
    for p in (nosuch, str(folder), str(fifo), "/dev/zero", "/dev/null", *odd):
        runs += [("inspect", p), ("import", p), ("inspect", "--json", p), ("import", "--json", p)]
    for m in models:
        if m != model_id:  # the seeded model stays in the library, and is not exported for real
            runs += [("delete", m), ("restore", m), ("export", m, "format=onnx"), ("rename", m, "new")]
        runs += [("rename", model_id, m), ("download", m, str(tmp / "out.pt")), ("exports", m), ("exports", m, "--json"),
                 ("predict", m, str(nosuch)), ("cancel", m), ("logs", m),
                 ("logs", m, "--follow"), ("list", "--project", m), ("import", "--project", m, nosuch),
                 ("projects", "add", m), ("projects", "delete", m), ("projects", "rename", m, "x"),
                 ("workers", "test", m), ("workers", "remove", m), ("workers", "install", m),
                 ("train", f"model={os.fsdecode(m)}" if isinstance(m, bytes) else f"model={m}", "data=nosuch.yaml"),
                 ("toolchains", "install", m), ("toolchains", "remove", m)]
    for dest in ("/dev/full", str(folder / "deep" / "x.pt"), "/proc/nope", str(fifo), "", "/"):
        runs.append(("download", model_id, dest))
    for pair in pair_junk:
        runs += [("export", model_id, pair), ("export", model_id, "format=onnx", pair),
                 ("predict", model_id, nosuch, pair), ("train", "model=yolo26n.yaml", "data=nosuch.yaml", pair),
                 ("train", pair)]
    runs += [("export", model_id, "format=onnx", "--worker", "nosuch"), ("export", model_id, "--all", "--worker", "x"),
             ("train", "model=yolo26n.yaml", "data=x.yaml", "--worker", "nosuch"),
             ("train", "model=yolo26n.yaml", "data=x.yaml", "--project", "nosuch"),
             ("predict", model_id, str(folder)), ("predict", model_id, "/dev/zero"), ("predict", model_id, str(fifo)),
             ("predict", model_id, "camera:abc"), ("predict", model_id, "camera:99"), ("predict", model_id, "camera:-1"),
             ("predict", model_id, "http://127.0.0.1:9/x.jpg"), ("predict", model_id, "ftp://x/y.jpg"),
             ("predict", model_id, nosuch, "--backend", "nosuch"), ("predict", model_id, nosuch, "--save", "/dev/null"),
             ("predict", model_id, str(folder), "--save", str(tmp / "fifo.pt")),
             ("demo-data", str(tmp / "d"), "--train", "-1"), ("demo-data", str(tmp / "d"), "--size", "0"),
             ("demo-data", str(tmp / "d"), "--train", "abc"), ("demo-data", "/dev/null/x"),
             ("demo-data", str(tmp / "d2"), "--size", "99999999"), ("demo-data", str(tmp / "d3"), "--val", "0"),
             ("workers", "add"), ("workers", "add", "w"), ("workers", "add", "w", "", "--port", "-1"),
             ("workers", "add", "w", "host", "--port", "99999"), ("workers", "add", "", "host"),
             ("workers", "add", "w\x1b[2J", "127.0.0.1", "--port", "9", "--key", nosuch),
             ("workers", "nosuch"), ("workers", "list", "--json"), ("workers", "test"),
             ("projects", "add"), ("projects", "add", "a", "b"), ("projects", "add", ""), ("projects", "rename", "a"),
             ("projects", "rename", "Default", ""), ("projects", "delete", "Default"), ("projects", "add", "Default"),
             ("toolchains", "nosuch"), ("toolchains", "install"), ("toolchains", "install", "nosuch"),
             ("toolchains", "remove", "../../etc"), ("toolchains", "install", "../x"),
             ("check", "--repair", "--deep"), ("list", "--trash", "--json"), ("jobs", "--json")]
    return runs


def sweep(checkpoint: Path, root: Path, only: Sequence[str] = ()) -> list[tuple[str, Outcome]]:
    """Run every bad argument on a fresh, a seeded and every corrupt home; return the findings."""
    findings: list[tuple[str, Outcome]] = []
    home, model_id = seeded_home(root, checkpoint)
    homes = {"fresh": root / "fresh", "seeded": home, **corrupt_homes(root, home)}
    tmp = root / "scratch"
    tmp.mkdir(exist_ok=True)
    runs = bad_arguments(model_id, tmp)
    for label, h in homes.items():
        if only and label not in only:
            continue
        todo = runs if label in ("fresh", "seeded") else [r for r in runs if r[:1] != ("inspect",)][::3]
        for argv in todo:
            o = yolodesk(h, *argv, timeout=15, cwd=tmp)
            if o.problems:
                findings.append((label, o))
                print(f"[{label}] {short(argv)}: {'; '.join(o.problems)}", flush=True)
    return findings


if __name__ == "__main__":
    import tempfile

    ckpt = Path(sys.argv[1]) if len(sys.argv) > 1 else next(REPO.glob("tests/.cache/checkpoints-*/detect_yolo26n.pt"))
    with tempfile.TemporaryDirectory() as d:
        found = sweep(ckpt, Path(d), sys.argv[2:])
        shutil.rmtree(d, ignore_errors=True)
    print(f"{len(found)} finding(s)")
