"""A real toolchain install (NCNN: ncnn + pnnx from the package index), an export with it, and the app's own
environment proven untouched."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.exporters.registry import get
from app.exporters.store import ExportStore, availability
from app.exporters.toolchains import ToolchainError, Toolchains
from app.jobs.manager import JobManager

SNAPSHOT = ("import json, importlib.metadata as md; "
            "print(json.dumps(sorted((d.metadata['Name'].lower(), d.version) for d in md.distributions())))")


def app_packages() -> list:
    out = subprocess.run([sys.executable, "-c", SNAPSHOT], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_ncnn_toolchain_install_export_verify_remove(lib, checkpoints):
    folder, _ = checkpoints
    tcs = Toolchains(lib.home)
    state, why = availability(get("ncnn"), home=lib.home)
    assert state == "needs-toolchain" and "yolodesk toolchains install ncnn" in why
    before = app_packages()
    lines: list[str] = []
    manifest = tcs.install("ncnn", log=lines.append)
    assert app_packages() == before  # the app's environment is never modified
    assert any(p.startswith("ncnn==") for p in manifest["packages"]) and any("pnnx" in line for line in lines)
    assert tcs.installed("ncnn") and availability(get("ncnn"), home=lib.home)[0] == "ready"
    probe = subprocess.run([str(tcs.python("ncnn")), "-c", "import ncnn, ultralytics, torch; print('ok')"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "ok", probe.stderr  # layered: its own packages over the app's torch/ultralytics

    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    manager = JobManager(lib, poll_interval=0.05)
    try:
        job = manager.wait(manager.submit_export(model.id, "ncnn", {"imgsz": 64}).id, 300)
    finally:
        manager.shutdown()
    assert job.status == "Completed", job.error
    assert job.spec["python"] == str(tcs.python("ncnn"))
    rec = ExportStore(lib).by_job(job.id)
    assert rec.verified, rec.verification
    assert (lib.models_dir / model.id / "exports" / "ncnn").is_dir()

    assert tcs.remove("ncnn") and not tcs.installed("ncnn")
    assert availability(get("ncnn"), home=lib.home)[0] == "needs-toolchain"


def test_toolchains_that_need_their_own_environment_are_refused_clearly(lib):
    with pytest.raises(ToolchainError, match="numpy 1.26"):
        Toolchains(lib.home).install("tensorflow")
    with pytest.raises(ToolchainError, match="unknown toolchain"):
        Toolchains(lib.home).install("bogus")
    state, why = availability(get("rknn"), home=lib.home)
    assert state == "needs-toolchain" and "torch 2.4" in why


def test_install_progress_reads_pips_output():
    from app.exporters.toolchains import InstallProgress

    p = InstallProgress(expected=4)
    seen = []
    for line in ["Looking in links: /opt/wheels", "Collecting ncnn==1.0.20250503",
                 "  Downloading ncnn-1.0.20250503-cp311-cp311-manylinux_2_28_x86_64.whl (9.6 MB)",
                 "Collecting pnnx", "  Downloading pnnx-20250530-py3-none-any.whl (68.0 MB)",
                 "Requirement already satisfied: numpy in /app/site-packages (from ncnn) (2.3.5)",
                 "Collecting portalocker", "  Downloading portalocker-3.2.0-py3-none-any.whl (22 kB)",
                 "Installing collected packages: portalocker, pnnx, ncnn",
                 "Successfully installed ncnn-1.0 pnnx-20250530 portalocker-3.2.0"]:
        p.feed(line)
        seen.append(p.fraction)
    assert seen == sorted(seen) and seen[-1] == 0.98
    assert p.collected == 3 and abs(p.megabytes - 77.622) < 0.01
    assert 0.05 < seen[1] < seen[4] < 0.72 == seen[-2]


@pytest.mark.parametrize("fmt", ["paddle", "coreai"])
def test_base_formats_with_missing_packages_get_an_installable_toolchain(fmt, tmp_path):
    """ultralytics would pip-install these into the app's environment at export time; we offer their own."""
    from app.exporters.registry import get
    from app.exporters.store import availability
    from app.exporters.toolchains import toolchain_for

    tc = toolchain_for(fmt)
    assert tc is not None and tc.layered
    state, why = availability(get(fmt), home=tmp_path)
    assert state == "needs-toolchain" and f"yolodesk toolchains install {fmt}" in why
