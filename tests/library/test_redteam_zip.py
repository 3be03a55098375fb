"""Red team: zip names that two readers split differently. Python's zipfile cuts a member name at its first NUL byte,
torch's reader (miniz) keeps it: ``archive/data.pkl\\x00x`` is ``archive/data.pkl`` to one and not to the other."""

from __future__ import annotations

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from tests.library.hostile import hostile_payloads
from tests.library.hostile_build import checkpoint_pickle, inert_model, model_cfg, naive_load, raw_zip, torch_members


def test_nul_in_a_member_name_hides_a_hostile_pickle_from_zipfile(tmp_path):
    marker = tmp_path / "pwned"
    hostile = hostile_payloads(marker)["os.system"]
    benign = checkpoint_pickle(inert_model(yaml=model_cfg()))
    members = [("archive/data.pkl", hostile), ("archive/data.pkl\x00x", benign), *torch_members(benign)[1:]]
    path = tmp_path / "nul.pt"
    path.write_bytes(raw_zip(members))
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "ambiguous_zip" and "NUL" in e.value.message
    assert not marker.exists()
    naive_load("torch", [path], tmp_path)
    assert marker.exists(), "torch reads the first, hostile data.pkl"
