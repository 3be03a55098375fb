"""Export commands of the ``yolodesk`` CLI: export, exports, toolchains."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.common import (
    EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, job_manager, open_library, parse_pairs, shown, stream_job, trust_file,
)
from app.jobs.placement import target_from


def cmd_export(args: argparse.Namespace) -> int:
    from app.exporters.args_check import ExportArgsError
    from app.exporters.registry import FORMATS
    from app.exporters.availability import availability, for_model
    from app.exporters.store import ExportStore
    from app.library.repository import LibraryError

    try:
        kv = parse_pairs(args.pairs)
    except ValueError as e:
        return fail("export", e, EXIT_USAGE)
    if not args.all and "format" not in kv:
        return fail("export", "format=… is required (or --all)", EXIT_USAGE)
    manager = job_manager()
    try:
        model = manager.lib.find_model(args.model)
        if args.trust and model.has_weights:
            trust_file(manager.lib, model.weights_path, model.name)
        if args.all:  # every CPU format ready here that this model can take
            here = for_model(model.task, model.architecture, {f.argument: availability(f, home=manager.lib.home)
                                                               for f in FORMATS})
            formats = [f.argument for f in FORMATS if f.cpu and here[f.argument][0] == "ready"]
        else:
            formats = [str(kv.pop("format"))]
        jobs = []
        for fmt in formats:
            try:
                jobs.append(manager.submit_export(model.id, fmt, dict(kv), worker=target_from(args.worker, args.gpu_mem)))
            except (LibraryError, KeyError) as e:
                if not args.all or isinstance(e, ExportArgsError):  # a bad argument is bad for every format
                    raise
                print(f"– {fmt}: {e}")
        status = EXIT_OK
        for job in jobs:
            fmt = job.spec["args"]["format"]
            where = f" on {job.worker}" if job.worker != "local" else ""
            print(f"job {job.id}: exporting {model.name!r} to {fmt}{where}", flush=True)
            try:
                job = stream_job(manager, job.id)
            except KeyboardInterrupt:
                manager.cancel(job.id)
                job = stream_job(manager, job.id)
            rec = ExportStore(manager.lib).by_job(job.id)
            if job.status == "Completed" and rec is not None:
                detail = rec.verification or ""
                mark = "verified: " if rec.verified else ("" if "not verified" in detail else "not verified: ")
                print(f"\n✓ {rec.format}: {rec.path} ({(rec.size or 0) / 1e6:.1f} MB, {mark}{detail})")
            else:
                status = EXIT_FAILED
                print(f"\n✗ {fmt}: {job.status.lower()}" + (f": {job.error}" if job.error else ""), file=sys.stderr)
        return status
    except ExportArgsError as e:  # refused before any job or export row exists
        for field, problem in e.problems.items():
            print(f"yolodesk export: {field}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyError as e:  # the registry's "unknown export format …": str() of a KeyError would add quotes
        return fail("export", e.args[0] if e.args else e, EXIT_USAGE)
    except LibraryError as e:
        return fail("export", e)
    finally:
        manager.shutdown()


def cmd_exports(args: argparse.Namespace) -> int:
    from app.exporters.int8 import ACCURACY_KEY, INT8_SLOTS, row_text
    from app.exporters.registry import FORMATS
    from app.exporters.availability import availability, for_model
    from app.exporters.store import ExportStore
    from app.library.repository import LibraryError

    lib = open_library()
    try:
        model = lib.find_model(args.model)
    except LibraryError as e:
        return fail("exports", e)
    done = {e.format: e for e in ExportStore(lib).for_model(model.id)}
    here = for_model(model.task, model.architecture, {f.argument: availability(f, home=lib.home) for f in FORMATS})
    rows: list[dict[str, Any]] = []
    for f in FORMATS:
        state, why = here[f.argument]
        slots = [f.argument] + ([INT8_SLOTS[f.argument]] if INT8_SLOTS.get(f.argument) in done else [])
        for slot in slots:  # an INT8 export has its own row, under its format's, once there is one
            e = done.get(slot)
            rows.append({"format": slot, "name": f.name + (" INT8" if slot != f.argument else ""),
                         "availability": state, "why": None if state == "ready" else why,
                         "status": e.status if e else None, "path": e.path if e else None,
                         "size": e.size if e else None, "verified": e.verified if e else None,
                         "verification": e.verification if e else None, "error": e.error if e else None,
                         **({"accuracy": e.args.get(ACCURACY_KEY)} if slot != f.argument and e else {})})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'FORMAT':<14}{'STATUS':<11}{'SIZE':>9}  {'VERIFIED':<9}AVAILABILITY")
    for r in rows:
        size = f"{r['size'] / 1e6:.1f} MB" if r["size"] else "—"
        verified = {True: "yes", False: "no", None: "—"}[r["verified"]]
        e = done.get(r["format"])
        said = row_text(e) if "accuracy" in r and e is not None else (r["why"] or "ready")
        print(f"{r['format']:<14}{(r['status'] or '—'):<11}{size:>9}  {verified:<9}{said}")
    from app.predict.runtime_timing import TIMINGS_FILE, TimingCache, cached_figures, describe

    imgsz = model.imgsz if isinstance(model.imgsz, int) else None
    figures = cached_figures(TimingCache(lib.home / TIMINGS_FILE), model.weights_path, list(done.values()), imgsz)
    if figures:  # only once Predict has timed this model's runtimes here
        print(f"\npredict speed: {describe(figures)}")
    return EXIT_OK


def cmd_toolchains(args: argparse.Namespace) -> int:
    from app.exporters.toolchains import TOOLCHAINS, ToolchainError, Toolchains
    from app.paths import library_home

    tcs = Toolchains(library_home())
    if args.action != "list" and args.name not in TOOLCHAINS:  # a name is a folder under the home: `..` was the home
        return fail("toolchains", f"unknown toolchain {shown(args.name)!r}; toolchains: {', '.join(TOOLCHAINS)}")
    if args.action in ("install", "repair"):  # repair: install afresh over it (the old one stays until it succeeds)
        try:
            manifest = tcs.install(args.name, log=lambda line: print(line, flush=True))
        except ToolchainError as e:
            return fail("toolchains", e)
        print(f"✓ {args.name} installed in {manifest['seconds']} s: {', '.join(manifest['packages'])}")
        return EXIT_OK
    if args.action == "remove":
        removed = tcs.remove(args.name)
        print(f"removed {args.name}" if removed else f"{args.name} is not installed")
        return EXIT_OK
    for tc in TOOLCHAINS.values():
        broken = tcs.problem(tc.name) if tcs.installed(tc.name) else None
        state = ("needs repair" if broken else "installed") if tcs.installed(tc.name) else "not installed"
        kind = "layered" if tc.layered else ("own env, shared torch" if not tc.torch else f"own env, {tc.torch[0]}")
        print(f"{tc.name:<17}{state:<15}~{tc.download_mb:>5,} MB  {kind:<22} formats: {', '.join(tc.formats)}")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("toolchains", help="list, install or remove export toolchains (their own environments)")
    s.add_argument("action", nargs="?", choices=("list", "install", "repair", "remove"), default="list")
    s.add_argument("name", nargs="?")
    s.set_defaults(func=cmd_toolchains)
    s = sub.add_parser("export", help="export a model (format=onnx imgsz=640 …, or --all) as a job")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("pairs", nargs="*", metavar="key=value")
    s.add_argument("--all", action="store_true", help="every CPU format that is ready here, with default settings")
    s.add_argument("--worker", metavar="NAME", help="export on this worker (TensorRT needs one with a GPU); any-gpu: "
                   "whichever worker has a GPU free")
    s.add_argument("--gpu-mem", type=float, metavar="GiB",
                   help="with --worker any-gpu: a free GPU with at least this much memory (SSH workers measure it)")
    s.add_argument("--trust", action="store_true", help="trust the model's weights (their sha256 is remembered): "
                                                        "they load even if the safe loader refuses them, running code")
    s.set_defaults(func=cmd_export)
    s = sub.add_parser("exports", help="list a model's exports and what every format needs")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_exports)
