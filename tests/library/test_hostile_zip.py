"""One reading of a zip: every layout on which two readers could see different members is refused.

Where torch itself would unpickle the hostile member, a naive ``torch.load`` in a fresh process proves it (marker).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from tests.library.hostile import hostile_payloads
from tests.library.hostile_build import checkpoint_pickle, inert_model, model_cfg, naive_load, raw_zip, torch_members


def _benign() -> bytes:
    return checkpoint_pickle(inert_model(yaml=model_cfg()))


def _layouts(marker: Path) -> dict[str, bytes]:
    evil = hostile_payloads(marker)["builtins.exec"]
    good = _benign()
    members = torch_members(good)
    return {
        # torch opens the first of two equal names, Python's zipfile the last
        "duplicate_hostile_first": raw_zip([("archive/data.pkl", evil), *members]),
        "duplicate_hostile_last": raw_zip([*members, ("archive/data.pkl", evil)]),
        "two_prefixes": raw_zip([*members, *torch_members(evil, "other")]),
        "member_outside_prefix": raw_zip([*members, ("README", b"hello")]),
        # the central directory says data.pkl, the local header another name
        "local_name_differs": raw_zip([*members, ("archive/data.pk1", evil)],
                                      central=[{}, {}, {}, {}, {"name": b"archive/extra"}]),
        # data.pkl's entry points into another member's data, where a second local header hides
        "overlapping": _overlapping(good, evil),
        "size_beyond_file": raw_zip(members, central=[{"csize": len(good) + 10_000, "usize": len(good) + 10_000}]),
        # a whole hostile entry glued before a benign zip whose offsets count from its own start
        "glued_before": raw_zip(members, prefix=raw_zip([("archive/data.pkl", evil)])[:30 + 16 + len(evil)]),
        "comment_after_end": raw_zip(members)[:-2] + struct.pack("<H", 5) + b"hello",
    }


def _overlapping(good: bytes, evil: bytes) -> bytes:
    inner = raw_zip([("archive/data.pkl", evil)])[: 30 + 16 + len(evil)]  # one local header + data
    blob = raw_zip([("archive/blob", inner), *torch_members(good)[1:]])
    return _with_extra_central(blob, struct.unpack_from("<I", inner, 14)[0], evil)


def _with_extra_central(blob: bytes, crc: int, evil: bytes) -> bytes:
    """Add a central entry ``archive/data.pkl`` pointing at the local header hidden inside ``archive/blob``."""
    eocd = blob[-22:]
    _, _, _, n, _, cd_size, cd_offset, _ = struct.unpack("<4sHHHHIIH", eocd)
    cd = blob[cd_offset:cd_offset + cd_size]
    name = b"archive/data.pkl"
    hidden_at = 30 + len(b"archive/blob")
    extra = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(evil), len(evil),
                        len(name), 0, 0, 0, 0, 0, hidden_at) + name
    new_cd = extra + cd  # first, so the record prefix is 'archive'
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n + 1, n + 1, len(new_cd), cd_offset, 0)
    return blob[:cd_offset] + new_cd + end


def test_benign_layout_is_accepted(tmp_path):
    path = tmp_path / "good.pt"
    path.write_bytes(raw_zip(torch_members(_benign())))
    info = inspect_checkpoint(path)
    assert info.task == "detect" and info.names == ["a", "b"]


@pytest.mark.parametrize("layout", sorted(_layouts(Path("/x"))))
def test_ambiguous_zip_layout_is_refused(tmp_path, layout):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{layout}.pt"
    path.write_bytes(_layouts(marker)[layout])
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "ambiguous_zip", e.value.message
    assert e.value.message.startswith("refused: ")
    assert not marker.exists()


def test_torch_unpickles_the_hostile_member_of_these_layouts(tmp_path):
    """The layouts are dangerous, not only odd: a naive torch.load runs the member our reader would not have read."""
    paths = {}
    for layout in ("duplicate_hostile_first", "glued_before", "overlapping"):
        marker = tmp_path / f"pwned_{layout}"
        paths[layout] = tmp_path / f"{layout}.pt"
        paths[layout].write_bytes(_layouts(marker)[layout])
    naive_load("torch", list(paths.values()), tmp_path)
    assert (tmp_path / "pwned_duplicate_hostile_first").exists()
    assert (tmp_path / "pwned_overlapping").exists()
    # glued data: recorded either way, the layout is refused regardless of which reader wins
    for layout in ("duplicate_hostile_first", "glued_before", "overlapping"):
        with pytest.raises(CheckpointError) as e:
            inspect_checkpoint(paths[layout])
        assert e.value.code == "ambiguous_zip"
