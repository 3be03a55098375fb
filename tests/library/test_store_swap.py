"""Inspect what you store: a source swapped or truncated during imports never lands unverified; check --deep."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from tests.library.hostile import hostile_payloads, torch_zip
from tests.library.store_helpers import python, run_cli, sha, variants

SWAPPER = r"""
import os, random, shutil, sys, time
src, stop, *choices = sys.argv[1:]
i = 0
while not os.path.exists(stop):
    pick = choices[i % len(choices)]
    tmp = f"{src}.{i}.swap"
    shutil.copyfile(pick, tmp)
    os.replace(tmp, src)  # a different file renamed over the source
    if i % 3 == 0:
        os.truncate(src, os.path.getsize(src) // 2)  # or the same file cut short while it is read
    i += 1
    time.sleep(random.random() * 0.004)
print(i)
"""


def test_a_source_swapped_during_imports_never_stores_unverified_bytes(lib, checkpoints, tmp_path):
    folder, _ = checkpoints
    marker = tmp_path / "pwned"
    hostile = torch_zip(tmp_path / "hostile.pt", hostile_payloads(marker)["os.system"])
    goods = variants(folder / "detect_yolo26n.pt", [tmp_path / f"good{i}.pt" for i in range(3)])
    src, stop = tmp_path / "incoming.pt", tmp_path / "stop"
    shutil.copyfile(goods[0], src)
    swapper = python(SWAPPER, lib.home, str(src), str(stop), str(goods[0]), str(hostile), str(goods[1]),
                     str(hostile), str(goods[2]))
    results = []
    try:
        deadline = time.monotonic() + 20
        while len(results) < 60 and time.monotonic() < deadline:
            results.append(lib.import_checkpoint(src))
    finally:
        stop.touch()
        swaps = int(swapper.communicate(timeout=30)[0].strip() or 0)
    states = {r.state for r in results}
    assert swaps > 20 and "added" in states and "rejected" in states, (swaps, states)
    models = lib.models()
    assert models
    for m in models:  # every stored file is the one that was hashed and inspected
        assert sha(m.weights_path) == m.sha256
        inspect_checkpoint(m.weights_path)
    assert {m.sha256 for m in models} <= {sha(g) for g in goods}
    assert lib.check(deep=True).clean
    assert not marker.exists()


def test_deep_check_finds_changed_weights_and_repair_keeps_them_aside(lib, checkpoints, tmp_path):
    folder, _ = checkpoints
    good = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    cut = lib.import_checkpoint(folder / "classify_yolo11n.pt").model
    fine = lib.import_checkpoint(folder / "pose_yolo11n.pt").model
    shutil.copyfile(folder / "obb_yolo26n.pt", good.weights_path)  # a valid checkpoint, but not these bytes
    data = cut.weights_path.read_bytes()
    cut.weights_path.write_bytes(data[: len(data) // 2])
    assert lib.check().clean  # the quick check only looks for files
    report = lib.check(deep=True)
    assert sorted(i for i, _ in report.damaged) == sorted([good.id, cut.id])
    assert all("sha256" in why for _, why in report.damaged)

    cli = run_cli(lib.home, "check", "--deep")
    assert cli.returncode == 1 and f"damaged: model {good.id}" in cli.stdout, cli.stdout + cli.stderr
    cli = run_cli(lib.home, "check", "--deep", "--repair")
    assert cli.returncode == 0 and cli.stdout.count("marked model") == 2, cli.stdout + cli.stderr
    assert lib.check(deep=True).clean
    statuses = {m.id: m.status for m in lib.models()}
    assert statuses == {good.id: "Damaged", cut.id: "Damaged", fine.id: "Ready"}
    aside = good.weights_path.with_name("weights.pt.damaged")
    assert not good.weights_path.exists() and aside.read_bytes() == (folder / "obb_yolo26n.pt").read_bytes()
    try:
        inspect_checkpoint(cut.weights_path.with_name("weights.pt.damaged"))
        raise AssertionError("a truncated file passed inspection")
    except CheckpointError:
        pass

    # The original file brings the model back, row and all.
    r = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    assert r.state == "added" and r.model.id == good.id and "restored" in r.message
    assert lib.model(good.id).status == "Ready" and sha(good.weights_path) == good.sha256
    assert len(lib.models()) == 3 and lib.check(deep=True).clean


def test_a_row_whose_weights_vanished_is_marked_missing_not_deleted(lib, checkpoints):
    folder, _ = checkpoints
    m = lib.import_checkpoint(folder / "segment_yolov8n.pt").model
    m.weights_path.unlink()
    report = lib.check(repair=True)
    assert report.repaired and "Missing" in report.repaired[0]
    after = lib.check()
    assert after.clean and after.marked == [(m.id, m.name, "Missing")]
    kept = lib.model(m.id)
    assert kept.status == "Missing" and kept.metrics == m.metrics and kept.sha256 == m.sha256
    assert lib.import_checkpoint(folder / "segment_yolov8n.pt").model.id == m.id
    assert lib.model(m.id).status == "Ready" and Path(m.weights_path).is_file()
