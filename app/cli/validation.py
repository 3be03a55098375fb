"""Validation commands of the ``yolodesk`` CLI: val, validations, compare."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.common import EXIT_OK, EXIT_USAGE, fail, job_manager, parse_pairs, shown, stream_job
from app.jobs.placement import target_from


def _print_capture(capture: dict[str, Any], record_id: str) -> None:
    """A validation for a person: overall metrics, per class, the matrix with its row and column names."""
    names = list(capture["names"])
    print(f"validation {record_id}: {capture['task']} on {capture['data']} ({capture['split']})")
    print("overall: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                  for k, v in capture["overall"].items()))
    if capture["per_class"]:
        print(f"\n{'CLASS':<20}{'IMAGES':>7}{'INST':>7}{'P':>8}{'R':>8}{'F1':>8}{'mAP50':>8}{'mAP50-95':>10}")
        for name, m in capture["per_class"].items():
            print(f"{shown(name, 19):<20}{m['images']:>7}{m['instances']:>7}{m['precision']:>8.3f}{m['recall']:>8.3f}"
                  f"{m['f1']:>8.3f}{m['map50']:>8.3f}{m['map50_95']:>10.3f}")
    labels = names + ([] if capture["task"] == "classify" else ["background"])
    width = max(6, *(len(shown(n, 12)) + 1 for n in labels))
    print(f"\nconfusion matrix at conf {capture['matrix_conf']:g} (rows predicted, columns true)")
    print(" " * width + "".join(f"{shown(n, 12):>{width}}" for n in labels))
    for name, row in zip(labels, capture["confusion_matrix"], strict=True):
        print(f"{shown(name, 12):<{width}}" + "".join(f"{v:>{width}}" for v in row))
    speed = capture["speed"]
    print(f"\nspeed per image: {speed['preprocess']:.1f} ms preprocess, {speed['inference']:.1f} ms inference, "
          f"{speed['postprocess']:.1f} ms postprocess")


def cmd_val(args: argparse.Namespace) -> int:
    from app.jobs.spec import SpecError
    from app.library.repository import LibraryError
    from app.library.untrusted import utf8_text
    from app.validation.store import ValidationError, get_validation, load_capture
    from app.validation.val_job import start_validation

    try:
        kv = parse_pairs(args.pairs)
    except ValueError as e:
        return fail("val", e, EXIT_USAGE)
    manager = job_manager()
    lib = manager.lib
    try:
        model = lib.find_model(utf8_text(args.model))
        data = kv.pop("data", None)
        split = str(kv.pop("split", "val"))
        job = start_validation(lib, manager, model.id, None if data is None else str(data), split,
                               target_from(args.worker, args.gpu_mem) or "local", **kv)
    except SpecError as e:  # refused before any job exists
        for field, problem in e.problems.items():
            print(f"yolodesk val: {field}: {problem}", file=sys.stderr)
        manager.shutdown()
        return EXIT_USAGE
    except LibraryError as e:
        manager.shutdown()
        return fail("val", e)
    where = f" on {job.worker}" if job.worker != "local" else ""
    print(f"job {job.id}: validating {model.name!r} on {job.spec['args']['data']} ({split}){where}",
          file=sys.stderr if args.json else sys.stdout, flush=True)
    try:
        job = manager.wait(job.id) if args.json else stream_job(manager, job.id)
    except KeyboardInterrupt:
        manager.cancel(job.id)
        job = manager.wait(job.id, 30)
    finally:
        manager.shutdown()
    if job.status != "Completed":
        return fail("val", f"job {job.id} {job.status.lower()}" + (f": {job.error}" if job.error else ""))
    try:
        record = get_validation(lib, str(job.result.get("validation_id")))
        capture = load_capture(record)
    except ValidationError as e:
        return fail("val", e)
    capture.pop("images", None)
    if args.json:
        print(json.dumps({"id": record.id, **capture}))
    else:
        print()
        _print_capture(capture, record.id)
    return EXIT_OK


def cmd_validations(args: argparse.Namespace) -> int:
    from app.cli.common import open_library
    from app.library.repository import LibraryError
    from app.library.untrusted import utf8_text
    from app.validation.store import list_validations

    lib = open_library()
    try:
        model = lib.find_model(utf8_text(args.model))
    except LibraryError as e:
        return fail("validations", e)
    rows = [r.to_json() for r in list_validations(lib, model.id)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print(f"{model.name!r} has no validations (yolodesk val {shown(model.name)} makes one)")
        return EXIT_OK
    print(f"{'ID':<14}{'DATE':<18}{'SPLIT':<7}{'METRIC':<22}DATA")
    for r in rows:
        overall = r["summary"].get("overall") or {}
        key = "map50_95" if "map50_95" in overall else "top1"
        value = overall.get(key)
        metric = f"{key} {value:.4f}" if isinstance(value, (int, float)) else "—"
        print(f"{r['id']:<14}{r['created_at'][:16].replace('T', ' '):<18}{r['split']:<7}{metric:<22}{shown(r['data'])}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from app.cli.common import open_library
    from app.library.repository import LibraryError
    from app.library.untrusted import utf8_text
    from app.validation.compare import compare_models

    lib = open_library()
    try:
        result = compare_models(lib, [utf8_text(m) for m in args.models])
    except LibraryError as e:
        return fail("compare", e)
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    models = result["models"]
    keys = [k for k in result["best"]] or ["overall.map50_95" if result["task"] != "classify" else "overall.top1"]
    print(f"{'METRIC':<22}" + "".join(f"{shown(m['name'], 17):>18}" for m in models))
    for key in keys:
        group, name = key.split(".", 1)
        cells = []
        for m in models:
            v = (m["validation"] or {}).get(group, {}).get(name)
            mark = "*" if m["id"] in result["best"].get(key, []) else " "
            cells.append(f"{v:>17.4f}{mark}" if isinstance(v, (int, float)) else f"{'—':>17} ")
        print(f"{key:<22}" + "".join(cells))
    print(f"{'epochs trained':<22}" + "".join(f"{m['training']['epochs']:>17} " for m in models))
    if result["unvalidated"]:
        print(f"\nnot validated yet: {', '.join(shown(n) for n in result['unvalidated'])} (yolodesk val MODEL)")
    print("\n* best (speed: lowest ms per image)")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("val", help="validate a library model: confusion matrix, curves, per-class metrics (a job)")
    s.add_argument("model", metavar="MODEL", help="a library model's name or id")
    s.add_argument("pairs", nargs="*", metavar="key=value", help="data=… split=val|train|test conf=… iou=… imgsz=…")
    s.add_argument("--worker", metavar="NAME", help="validate on this worker (see `yolodesk workers`); any-gpu: "
                   "whichever worker has a GPU free")
    s.add_argument("--gpu-mem", type=float, metavar="GiB",
                   help="with --worker any-gpu: a free GPU with at least this much memory (SSH workers measure it)")
    s.add_argument("--json", action="store_true", help="print the validation as one JSON object (no per-image data)")
    s.set_defaults(func=cmd_val)
    s = sub.add_parser("validations", help="list a model's validations")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_validations)
    s = sub.add_parser("compare", help="2 to 6 models side by side: latest validation, training")
    s.add_argument("models", nargs="+", metavar="MODEL")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_compare)
