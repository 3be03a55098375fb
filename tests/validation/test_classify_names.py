"""Classification truths in the model's numbering: by folder name, and a data set of none of its classes refused.

ultralytics numbers a classification data set's folders by the model's names when some match, else in the
folders' own sorted order; the capture must never label a ``cat`` folder as the model's class 0.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.validation.conftest import ROOT, agent_env


def _agent(root: Path, name: str, model: Path, data: Path) -> tuple[int, str, Path]:
    run_dir = root / f"run-{name}"
    spec = {"id": f"val-{name}", "kind": "val", "run_dir": str(run_dir),
            "args": {"model": str(model), "data": str(data), "split": "val", "imgsz": 64, "batch": 4, "workers": 0,
                     "device": "cpu"}}
    (root / f"{name}.json").write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, "-m", "remote_agent", "run", str(root / f"{name}.json")], cwd=ROOT,
                          env=agent_env(root / "home"), capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr, run_dir / "validation.json"


def test_truths_follow_the_folder_names_in_the_models_order(checkpoints, tmp_path):
    import torch

    folder, manifest = checkpoints
    ckpt = torch.load(folder / "classify_yolo11n.pt", map_location="cpu", weights_only=False)
    assert dict(ckpt["model"].names) == {0: "disc", 1: "square"}
    ckpt["model"].names = {0: "square", 1: "disc"}  # the folders (disc/, square/) sort the other way
    reversed_model = tmp_path / "reversed.pt"
    torch.save(ckpt, reversed_model)
    rc, text, capture_path = _agent(tmp_path, "reversed", reversed_model, Path(manifest["classify_yolo11n.pt"]["data"]))
    assert rc == 0, text[-3000:]
    capture = json.loads(capture_path.read_text())
    assert capture["names"] == ["square", "disc"]
    folders = [Path(im["file"]).parent.name for im in capture["images"]]
    assert sorted(set(folders)) == ["disc", "square"]
    assert [capture["names"][im["truth"][0]["cls"]] for im in capture["images"]] == folders


def test_a_data_set_of_none_of_the_models_classes_is_refused(checkpoints, tmp_path):
    folder, manifest = checkpoints
    data = tmp_path / "shapes"
    shutil.copytree(manifest["classify_yolo11n.pt"]["data"], data)
    for split in ("train", "val"):
        (data / split / "disc").rename(data / split / "circle")
        (data / split / "square").rename(data / split / "tile")
    rc, text, capture_path = _agent(tmp_path, "foreign", folder / "classify_yolo11n.pt", data)
    assert rc != 0 and not capture_path.exists()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    failed = [e for e in events if e["type"] == "failed"]
    assert len(failed) == 1 and "\n" not in failed[0]["message"]  # the job's verdict: one line
    assert failed[0]["message"].endswith("has the classes circle, tile; the model's are disc, square: none is the "
                                         "same, so no truth could be matched to a prediction by name")
