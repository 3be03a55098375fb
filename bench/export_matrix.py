"""Install toolchains, export a tiny trained detection model to each format, verify it, and write the table.

Usage: python bench/export_matrix.py [--toolchains ncnn,mnn | all] [--imgsz 320] [--home DIR]
Writes bench/out/export_matrix.json and bench/out/export_matrix.md (the table the README shows).
`all` also tries toolchains that pull large packages (the separate ones with their own torch are ~6 GB
each): run it where time and disk allow. ``--home`` reuses a library home whose toolchains are already
installed (their install time is then the one recorded in their manifest), and keeps it afterwards.
Each format is exported from the tiny YOLO26n detector, or, where the format refuses that model (IMX500:
YOLOv8n/YOLO11n only; PaddlePaddle: not YOLO26 detect), from the first fixture model it accepts.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from common import OUT, fixture_checkpoints, save

from app.exporters.registry import FORMATS, restriction
from app.exporters.availability import availability
from app.exporters.store import ExportStore
from app.exporters.toolchains import TOOLCHAINS, Toolchains, toolchain_for
from app.jobs.manager import JobManager
from app.library.repository import Library, LibraryError


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--toolchains", default="ncnn,mnn")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--home", type=Path)
    a = ap.parse_args()
    wanted = set(TOOLCHAINS) if a.toolchains == "all" else set(filter(None, a.toolchains.split(",")))
    home = a.home or Path(tempfile.mkdtemp(prefix="yd-matrix-"))
    lib = Library(home)
    models = []
    for name in ("detect_yolo26n", "pose_yolo11n", "classify_yolo11n"):
        found = [m for m in lib.models() if m.name == name]
        models.append(found[0] if found else lib.import_checkpoint(fixture_checkpoints() / f"{name}.pt").model)
    tcs = Toolchains(home)
    installs: dict[str, dict] = {}
    for name in sorted(wanted):
        t = time.monotonic()
        try:
            if tcs.installed(name):
                installs[name] = {"ok": True, "seconds": tcs.installed(name)["seconds"],
                                  "size_mb": round(dir_size(tcs.path(name)) / 1e6, 1)}
                print(name, "already installed", installs[name], flush=True)
                continue
            tcs.install(name)
            installs[name] = {"ok": True, "seconds": round(time.monotonic() - t, 1),
                              "size_mb": round(dir_size(tcs.path(name)) / 1e6, 1)}
        except Exception as e:  # recorded in the table, not raised
            installs[name] = {"ok": False, "reason": str(e).strip().splitlines()[-1][:200]}
        print(name, installs[name], flush=True)
    rows = []
    manager = JobManager(lib, poll_interval=0.05)
    for fmt in FORMATS:
        tc = toolchain_for(fmt.argument)
        state, why = availability(fmt, home=home)
        row = {"format": fmt.argument, "name": fmt.name, "toolchain": tc.name if tc else fmt.toolchain,
               "toolchain_mb": installs.get(tc.name, {}).get("size_mb") if tc else 0}
        if state != "ready":
            rows.append({**row, "works": False, "verified": False, "seconds": None, "reason": why})
            print(f"{fmt.argument:<12} skipped: {why}", flush=True)
            continue
        model = next((m for m in models if restriction(fmt, m.task, m.architecture) is None), models[0])
        row["model"] = model.name
        try:
            job = manager.wait(manager.submit_export(model.id, fmt.argument, {"imgsz": a.imgsz}).id, 1800)
        except LibraryError as e:
            rows.append({**row, "works": False, "verified": False, "seconds": None, "reason": str(e)})
            continue
        rec = ExportStore(lib).by_job(job.id)
        rows.append({**row, "works": job.status == "Completed", "verified": bool(rec and rec.verified),
                     "seconds": rec.seconds if rec else None,
                     "reason": (job.error or "")[:200] if job.status != "Completed" else (rec.verification or "")})
        print(f"{fmt.argument:<12} {job.status} {rows[-1]['reason'][:100]}", flush=True)
    manager.shutdown()
    save("export_matrix", {"imgsz": a.imgsz, "installs": installs, "rows": rows})
    lines = ["| format | works | time | verified | toolchain (size) | note |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        size = f" ({r['toolchain_mb']} MB)" if r.get("toolchain_mb") else ""
        took = f"{r['seconds']:.1f} s" if r["seconds"] else "—"
        name = r["name"] + (f" ({r['model']})" if r.get("model") not in (None, "detect_yolo26n") else "")
        lines.append(f"| {name} | {'yes' if r['works'] else 'no'} | {took} | {'yes' if r['verified'] else 'no'} | "
                     f"{r['toolchain']}{size} | {r['reason'][:90]} |")
    (OUT / "export_matrix.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if a.home is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
