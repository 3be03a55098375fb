"""Data set commands of the ``yolodesk`` CLI: datasets [--json], datasets add PATH, datasets show|rescan NAME."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.common import EXIT_FAILED, EXIT_OK, fail, open_library, shown


def human_size(n: int | None) -> str:
    """Bytes as the listing shows them (kB, MB, GB)."""
    if n is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _print_problems(scan: Any, out: Any = None) -> None:
    out = out or sys.stdout
    for p in scan.problems:
        print(f"  {p.severity}: {shown(p.file, 200)}: {shown(p.message, 200)}", file=out)
    if scan.problem_count > len(scan.problems):
        print(f"  … and {scan.problem_count - len(scan.problems)} more problem(s)", file=out)


def cmd_datasets(args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action == "add":
        return _add(args)
    if action in ("show", "rescan"):
        return _show(args)
    from app.library.datasets import list_datasets

    rows = list_datasets(open_library())
    if args.json:
        print(json.dumps([i.to_json() for i in rows], indent=2))
        return EXIT_OK
    if not rows:
        print("no data sets (yolodesk datasets add PATH adds one)")
        return EXIT_OK
    print(f"{'ID':<5}{'NAME':<24}{'TASK':<10}{'CLASSES':>8}{'TRAIN':>7}{'VAL':>6}{'SIZE':>10}{'MODELS':>8}  "
          f"{'LAST USED':<12}STATE")
    for i in rows:
        r = i.record
        used = i.last_used.strftime("%Y-%m-%d") if i.last_used else "—"
        print(f"{r.id:<5}{shown(r.name, 23):<24}{shown(r.task or '?', 9):<10}{len(r.class_names):>8}"
              f"{i.images('train'):>7}{i.images('val'):>6}{_size_cell(i):>10}{len(i.models):>8}  {used:<12}"
              f"{i.state}")
    return EXIT_OK


def _size_cell(info: Any) -> str:
    """The listing's size: ``>`` before it when the scan stopped counting (a root such as ``/``)."""
    counted = info.stats.get("size_counted", True)
    return human_size(info.record.size) if counted else f">{human_size(info.record.size)}"


def _add(args: argparse.Namespace) -> int:
    from app.library.datasets import DatasetUnusable, ScanCancelled, add_dataset

    lib = open_library()
    try:
        outcome = add_dataset(lib, args.path, args.name, task=args.task)
    except DatasetUnusable as e:
        if e.scan is not None:
            _print_problems(e.scan, sys.stderr)
        return fail("datasets add", f"{e}; nothing was added")
    except ScanCancelled:
        return 130
    r, scan = outcome.info.record, outcome.scan
    verb = "added" if outcome.added else "re-checked (already in the library)"
    counts = ", ".join(f"{s} {v.images}" for s, v in scan.splits.items())
    print(f"{verb}: {shown(r.name)} (id {r.id}) · {r.task} · {len(r.class_names)} classes · {counts} images · "
          f"{human_size(r.size) if scan.size_counted else f'more than {human_size(r.size)} (not all counted)'}")
    if scan.problem_count:
        print(f"{scan.problem_count} problem(s) ({scan.errors} error(s): those files are skipped in training):")
        _print_problems(scan)
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from app.library.datasets import DatasetUnusable, find_dataset, rescan_dataset

    lib = open_library()
    try:
        info = find_dataset(lib, args.name)
        if args.action == "rescan":
            info = rescan_dataset(lib, info.record.id).info
    except (LookupError, DatasetUnusable) as e:
        return fail(f"datasets {args.action}", e, EXIT_FAILED)
    d = info.to_json(detail=True)
    if args.json:
        print(json.dumps(d, indent=2))
        return EXIT_OK
    print(f"{shown(d['name'])} (id {d['id']}) · {d['task']} · {d['state']}\n{shown(d['location'], 300)}")
    print(f"size {human_size(d['size'])} · {d['models']} model(s)" + (f" · last used {d['last_used'][:10]}"
                                                                     if d["last_used"] else ""))
    splits = d.get("splits", {})
    if splits:
        print(f"\n{'CLASS':<24}" + "".join(f"{s.upper():>8}" for s in splits))
        for name in d["names"]:
            print(f"{shown(name, 23):<24}" + "".join(f"{v['instances'].get(name, 0):>8}" for v in splits.values()))
        print(f"{'(images)':<24}" + "".join(f"{v['images']:>8}" for v in splits.values()))
    for m in d["model_list"]:
        print(f"model {m['id']}  {shown(m['name'])}  ({shown(m['project'])})")
    if d["problems"]:
        print(f"\n{d['problem_count']} problem(s):")
        for p in d["problems"]:
            print(f"  {p['severity']}: {shown(p['file'], 200)}: {shown(p['message'], 200)}")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("datasets", help="list data sets; add one (a data.yaml, a classification folder or a .zip); "
                                        "show one's counts per class and split and its problems")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_datasets, action=None)
    acts = s.add_subparsers(dest="action", metavar="ACTION")
    a = acts.add_parser("add", help="check a data set and add it to the library (exit 1 if it is unusable)")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--name", metavar="N", help="its name in the library (default: its folder's)")
    a.add_argument("--task", choices=("detect", "segment", "pose", "obb"),
                   help="the label format, when the labels alone cannot tell (obb vs 4-point polygons)")
    for action, what in (("show", "counts per class and split, models and problems"),
                         ("rescan", "check it again where it lies, then show it")):
        a = acts.add_parser(action, help=what)
        a.add_argument("name", metavar="NAME", help="its name or id")
        a.add_argument("--json", action="store_true")
