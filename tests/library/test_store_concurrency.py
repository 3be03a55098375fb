"""Repair never races an import; several processes creating one new library all succeed."""

from __future__ import annotations

import json
import sqlite3
import time

from app.library.db import HEAD
from app.library.repository import Library
from tests.library.store_helpers import python, sha, variants

IMPORTER = r"""
import json, sys
from pathlib import Path
from app.library.repository import Library
lib = Library(Path(sys.argv[1]))
for p in sys.argv[2:]:
    r = lib.import_checkpoint(p)
    print(json.dumps({"state": r.state, "id": r.model.id if r.model else None, "message": r.message}), flush=True)
"""

REPAIRER = r"""
import os, sys
from pathlib import Path
from app.library.repository import Library
home, stop = Path(sys.argv[1]), sys.argv[2]
rounds = busy = 0
while not os.path.exists(stop):
    lib = Library(home)
    report = lib.check(repair=True)  # what `yolodesk check --repair` runs
    busy += len(report.busy)
    lib.close()
    rounds += 1
print(rounds, busy)
"""


def test_check_repair_looping_beside_three_importing_processes_loses_nothing(home, checkpoints, tmp_path):
    folder, _ = checkpoints
    Library(home).close()
    files = variants(folder / "detect_yolo26n.pt", [tmp_path / f"v{i}.pt" for i in range(60)])
    batches = [[str(f) for f in files[p * 20:(p + 1) * 20]] for p in range(3)]
    stop = tmp_path / "stop"
    repairer = python(REPAIRER, home, str(home), str(stop))
    time.sleep(0.5)
    importers = [python(IMPORTER, home, str(home), *batch) for batch in batches]
    outputs = [p.communicate(timeout=300) for p in importers]
    stop.touch()
    rounds, busy = map(int, repairer.communicate(timeout=120)[0].split())
    assert all(p.returncode == 0 for p in importers), [o[1][-2000:] for o in outputs]
    results = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    added = {r["id"] for r in results if r["state"] == "added"}
    assert len(results) == 60 and len(added) == 60, [r for r in results if r["state"] != "added"][:5]
    assert rounds >= 3 and busy >= 1, (rounds, busy)  # the repair really ran while imports were in flight
    lib = Library(home)
    try:
        stored = {m.id: m for m in lib.models()}
        assert added <= set(stored)
        for model_id in added:
            assert sha(lib.weights_path(model_id)) == stored[model_id].sha256
        assert lib.check(deep=True).clean
    finally:
        lib.close()


OPENER = r"""
import os, sys, time
from pathlib import Path
home, go = Path(sys.argv[1]), sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.005)
from app.library.repository import Library
Library(home).close()
"""


def test_many_processes_creating_one_new_library_all_succeed(tmp_path):
    for round_no in range(3):
        home, go = tmp_path / f"home{round_no}", tmp_path / f"go{round_no}"
        procs = [python(OPENER, home, str(home), str(go)) for _ in range(10)]
        time.sleep(2.0)  # every interpreter started and waiting, so that they open the library together
        go.touch()
        outs = [p.communicate(timeout=180) for p in procs]
        failed = [err[-600:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode != 0]
        assert not failed, f"round {round_no}: {len(failed)} of 10 failed:\n{failed[0]}"
        con = sqlite3.connect(home / "library.db")
        try:
            assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
            assert con.execute("SELECT name FROM projects").fetchall() == [("Default",)]
        finally:
            con.close()



def test_a_library_half_made_by_another_process_is_waited_for_not_called_foreign(tmp_path):
    """While one process creates a library, the file may hold only ``alembic_version`` for a moment. Another
    process opening it then must wait for the creation lock and look again, not call it another program's."""
    import os
    import shutil
    import subprocess
    import sys

    from app.library.db import creation_lock

    done = tmp_path / "done" / "home"
    Library(done).close()  # a finished library, to put in place as the creator would finish it
    home = tmp_path / "home"
    home.mkdir()
    db = home / "library.db"
    with creation_lock(db):
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")  # the creator's first step
        con.commit()
        con.close()
        opener = subprocess.Popen([sys.executable, "-m", "app.cli", "list", "--json"],
                                  env=dict(os.environ, YOLODESK_HOME=str(home)), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert opener.poll() is None, opener.communicate()  # it waits for the creator instead of refusing
        for suffix in ("", "-wal", "-shm"):
            (home / f"library.db{suffix}").unlink(missing_ok=True)
        shutil.copyfile(done / "library.db", db)  # the creator finishes
    out, err = opener.communicate(timeout=60)
    assert opener.returncode == 0, err
    assert json.loads(out) == []
