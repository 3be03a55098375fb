"""A real toolchain install (NCNN: ncnn + pnnx from the package index), an export with it, and the app's own
environment proven untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.exporters.registry import get
from app.exporters.availability import availability
from app.exporters.store import ExportStore
from app.exporters.toolchains import ToolchainError, Toolchains
from app.jobs.manager import JobManager

SNAPSHOT = ("import json, importlib.metadata as md; "
            "print(json.dumps(sorted((d.metadata['Name'].lower(), d.version) for d in md.distributions())))")


def app_packages() -> list:
    out = subprocess.run([sys.executable, "-c", SNAPSHOT], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def export_yolo26n(lib, folder, fmt: str, timeout: float):
    """Import the tiny YOLO26n detector and export it to ``fmt`` through the job engine, waiting for the end."""
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    manager = JobManager(lib, poll_interval=0.05)
    try:
        return model, manager.wait(manager.submit_export(model.id, fmt, {"imgsz": 64}).id, timeout)
    finally:
        manager.shutdown()


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

    model, job = export_yolo26n(lib, folder, "ncnn", 300)
    assert job.status == "Completed", job.error
    assert job.spec["python"] == str(tcs.python("ncnn"))
    rec = ExportStore(lib).by_job(job.id)
    assert rec.verified, rec.verification
    assert (lib.models_dir / model.id / "exports" / "ncnn").is_dir()

    assert tcs.remove("ncnn") and not tcs.installed("ncnn")
    assert availability(get("ncnn"), home=lib.home)[0] == "needs-toolchain"


def test_unknown_toolchains_and_missing_compilers_are_refused_clearly(lib):
    with pytest.raises(ToolchainError, match="unknown toolchain"):
        Toolchains(lib.home).install("bogus")
    state, why = availability(get("rknn"), home=lib.home)
    assert state == "needs-toolchain" and "torch ≤ 2.4.0" in why and "yolodesk toolchains install isolated-rknn" in why
    state, why = availability(get("edgetpu"), home=lib.home)  # not on the package index: never downloaded
    assert state == "vendor-sdk" and "Edge TPU compiler" in why


def test_shared_torch_is_linked_without_numpy_and_imports_in_a_bare_venv(tmp_path):
    """A separate toolchain reuses the app's torch by links; numpy stays the toolchain's own to choose."""
    from app.exporters.toolchains import link_distributions, torch_closure

    names = {d.metadata["Name"].lower() for d in torch_closure()}
    assert {"torch", "torchvision"} <= names and "numpy" not in names
    shared = tmp_path / "shared"
    link_distributions(torch_closure(), shared)
    assert (shared / "torch").is_symlink()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    py = tmp_path / "venv" / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / purelib / "yolodesk-shared.pth").write_text(f"import site; site.addsitedir({str(shared)!r})\n")
    probe = subprocess.run([str(py), "-c", "import importlib.util, torch; "
                            "print(torch.__version__, torch.ones(2).sum().item(), importlib.util.find_spec('numpy'))"],
                           capture_output=True, text=True)
    import torch

    assert probe.stdout.split() == [torch.__version__, "2.0", "None"], probe.stderr


def test_a_failed_separate_install_leaves_nothing_behind_and_keeps_the_old_one(lib, monkeypatch):
    """pip fails (here: a package that does not exist): no half environment, no stray links, the old one kept."""
    from app.exporters import toolchains as tcmod

    broken = tcmod.Toolchain("tensorflow", ("saved_model",), ("yolodesk-no-such-package==0.0.1",), 1, layered=False)
    monkeypatch.setitem(tcmod.TOOLCHAINS, "tensorflow", broken)
    tcs = Toolchains(lib.home)
    tcs.path("tensorflow").mkdir(parents=True)
    (tcs.path("tensorflow") / "kept").write_text("the installed one")
    lines: list[str] = []
    with pytest.raises(ToolchainError, match="yolodesk-no-such-package"):
        tcs.install("tensorflow", log=lines.append)
    assert any("sharing the app's torch" in line for line in lines)
    assert sorted(p.name for p in tcs.root.iterdir()) == [".shared", "tensorflow"]
    assert list((tcs.root / ".shared").iterdir()) == []  # the links made for it are gone again
    assert (tcs.path("tensorflow") / "kept").read_text() == "the installed one"


def test_a_toolchain_whose_shared_torch_moved_asks_to_be_reinstalled(lib, tmp_path):
    """After the app's torch changes, a toolchain's links are stale: it says so instead of failing mid-export."""
    from importlib.metadata import version

    import torch

    tcs = Toolchains(lib.home)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "torch").symlink_to(Path(torch.__file__).parent, target_is_directory=True)
    python = tcs.python("tensorflow")
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    manifest = {"name": "tensorflow", "shared": str(shared), "torch": version("torch"), "packages": []}
    (tcs.path("tensorflow") / "toolchain.json").write_text(json.dumps(manifest))
    assert availability(get("saved_model"), home=lib.home)[0] == "ready"

    (tcs.path("tensorflow") / "toolchain.json").write_text(json.dumps({**manifest, "torch": "2.0.0"}))
    state, why = availability(get("saved_model"), home=lib.home)
    assert state == "needs-toolchain" and "reinstall the 'tensorflow' toolchain" in why and "torch 2.0.0" in why

    (tcs.path("tensorflow") / "toolchain.json").write_text(json.dumps(manifest))
    (shared / "gone").symlink_to(tmp_path / "nowhere")
    state, why = availability(get("pb"), home=lib.home)
    assert state == "needs-toolchain" and "links to the app's torch are broken" in why


def test_tensorflow_toolchain_separate_env_exports_and_verifies_saved_model(lib, checkpoints):
    """The real TensorFlow toolchain: its own numpy < 2 and TensorFlow 2.19, the app's torch shared by links."""
    folder, _ = checkpoints
    tcs = Toolchains(lib.home)
    before = app_packages()
    manifest = tcs.install("tensorflow")
    assert app_packages() == before  # the app's numpy 2, protobuf and onnx are untouched
    assert "numpy==1.26.4" in manifest["packages"] and any(p.startswith("tensorflow==2.19") for p in manifest["packages"])
    assert not any(p.startswith("torch==") for p in manifest["packages"])  # shared, not installed again
    shared = manifest["shared"]
    assert tcs.problem("tensorflow") is None and availability(get("saved_model"), home=lib.home)[0] == "ready"
    probe = subprocess.run([str(tcs.python("tensorflow")), "-c", "import numpy, torch; print(numpy.__version__, "
                            "torch.__file__)"], capture_output=True, text=True)
    version, torch_file = probe.stdout.split()
    assert version == "1.26.4" and torch_file.startswith(shared), probe.stderr

    model, job = export_yolo26n(lib, folder, "saved_model", 600)
    assert job.status == "Completed", job.error
    rec = ExportStore(lib).by_job(job.id)
    assert rec.verified, rec.verification  # loaded with TensorFlow and compared with the .pt
    assert (lib.models_dir / model.id / "exports" / "saved_model").is_dir()
    assert (Path(job.run_dir) / "calibration_image_sample_data_20x128x128x3_float32.npy").exists()  # made, not fetched

    import torch

    assert tcs.remove("tensorflow") and not Path(shared).exists()
    assert Path(torch.__file__).exists()  # removing the links left the app's torch in place


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
    from app.exporters.availability import availability
    from app.exporters.toolchains import toolchain_for

    tc = toolchain_for(fmt)
    assert tc is not None and tc.layered
    state, why = availability(get(fmt), home=tmp_path)
    assert state == "needs-toolchain" and f"yolodesk toolchains install {fmt}" in why
