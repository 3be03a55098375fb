"""Library commands of the ``yolodesk`` CLI: inspect, import, list, check, rename, delete, restore, download, projects."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_OK, EXIT_REJECTED, fail, open_library


def _fmt_params(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}K"


def _fmt_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def cmd_inspect(args: argparse.Namespace) -> int:
    from app.library.checkpoint import CheckpointError, inspect_checkpoint, sha256_file

    out: list[dict[str, Any]] = []
    status = EXIT_OK
    for path in args.files:
        try:
            info = inspect_checkpoint(path, with_sha256=True)
            out.append(info.to_json())
        except CheckpointError as e:
            status = EXIT_REJECTED
            entry: dict[str, Any] = {"path": path, "ok": False, "error": e.message, "code": e.code, **e.details}
            entry.update(size=None, sha256=None)
            try:  # a FIFO or a device is never read: hashing /dev/zero or a pipe would not end
                if stat.S_ISREG(os.stat(path).st_mode):
                    entry.update(size=os.path.getsize(path), sha256=sha256_file(path))
            except (OSError, ValueError):
                pass
            out.append(entry)
    if args.json:
        print(json.dumps(out, indent=2, default=str))  # ensure_ascii: control characters and surrogates escaped
        return status
    from app.library.untrusted import printable  # names, paths and versions come from the file: never raw escapes

    for e in out:
        if not e["ok"]:
            print(f"✗ {printable(str(e['path']))}\n    {printable(str(e['error']))}")
            continue
        metrics = ", ".join(f"{printable(str(k)).split('/')[-1]}={v:.4g}" for k, v in e["metrics"].items()
                            if str(k).startswith("metrics/") and isinstance(v, int | float))
        print(f"✓ {printable(str(e['path']))}")
        names = [str(n) for n in e["names"][:12]]
        for label, value in (
            ("task", e["task"]), ("architecture", e["architecture"]),
            ("classes", f"{e['nc']}: {', '.join(names)}{' …' if len(e['names']) > 12 else ''}"),
            ("input size", e["imgsz"]), ("parameters", _fmt_params(e["params"])), ("metrics", metrics or "—"),
            ("epochs", e["epochs"]), ("ultralytics", e["ultralytics_version"]), ("date", e["date"]),
            ("training state", "yes (optimizer kept: a last.pt)" if e["training_state"] else "no"),
            ("size", _fmt_size(e["size"])), ("sha256", e["sha256"]),
        ):
            print(f"    {label:<15} {printable(str(value)) if value not in (None, '') else '—'}")
    return status


def cmd_import(args: argparse.Namespace) -> int:
    from app.library.importer import iter_pt_files
    from app.library.repository import LibraryError
    from app.library.untrusted import printable

    lib = open_library()
    try:
        project_id = lib.project_by_name(args.project).id if args.project else lib.default_project_id
    except LibraryError as e:
        return fail("import", e, EXIT_REJECTED)
    status = EXIT_OK
    results = []
    blank = [p for p in args.paths if not p.strip()]  # Path("") is the current folder: never import it unasked
    for path in blank:
        if not args.json:
            print(f"– {path!r}: skipped: an empty path")
        results.append({"path": path, "state": "skipped", "message": "skipped: an empty path"})
        status = EXIT_REJECTED
    for path, skip in iter_pt_files([p for p in args.paths if p.strip()]):
        if skip:
            if not args.json:  # the JSON array says it; a text line before it would make stdout unreadable
                print(f"– {printable(str(path))}: {skip}")
            status = EXIT_REJECTED
            results.append({"path": str(path), "state": "skipped", "message": skip})
            continue
        r = lib.import_checkpoint(path, project_id)
        mark = {"added": "✓", "duplicate": "=", "rejected": "✗"}[r.state]
        if not args.json:
            print(f"{mark} {printable(str(path))}: {printable(r.message)}" + (f" [{r.model.id}]" if r.model else ""))
        if r.state == "rejected":
            status = EXIT_REJECTED
        results.append({"path": r.path, "state": r.state, "message": r.message, "code": r.code,
                         "id": r.model.id if r.model else None})
    if args.json:
        print(json.dumps(results, indent=2))
    return status


LIST_KEYS = ("id", "project", "name", "task", "architecture", "status", "metrics", "names", "nc", "imgsz", "params",
             "sha256", "size", "visibility", "created_at", "deleted_at", "parent_id")


def model_json(m: Any) -> dict[str, Any]:
    """One model as ``list --json`` prints it; ``dataset`` is the linked data set's name, else the checkpoint's data ref."""
    d = m.to_json()
    return {**{k: d[k] for k in LIST_KEYS}, "dataset": m.dataset.name if m.dataset else m.dataset_ref}


def cmd_list(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError
    from app.library.untrusted import printable

    lib = open_library()
    try:
        pid = lib.project_by_name(args.project).id if args.project else None
    except LibraryError as e:
        return fail("list", e, EXIT_REJECTED)
    models = lib.models(pid, trashed=args.trash)
    if args.json:
        print(json.dumps([model_json(m) for m in models], indent=2, default=str))
        return EXIT_OK
    if not models:
        print("no models" + (f" in project {args.project!r}" if args.project else ""))
        return EXIT_OK
    print(f"{'ID':<13}{'PROJECT':<14}{'NAME':<28}{'TASK':<9}{'ARCHITECTURE':<16}{'STATUS':<11}KEY METRIC")
    for m in models:
        km = f"{m.key_metric[0]} {m.key_metric[1]:.3f}" if m.key_metric else "—"
        print(f"{m.id:<13}{printable(m.project)[:13]:<14}{printable(m.name)[:27]:<28}{printable(m.task or '?'):<9}"
              f"{printable(m.architecture or '?')[:15]:<16}{m.status:<11}{printable(km)}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from app.library.db import LibraryUnavailable
    from app.library.untrusted import printable

    try:
        lib = open_library()
    except LibraryUnavailable as e:
        from app.library.recovery import recovery_advice

        print(f"yolodesk check: {e}", file=sys.stderr)
        for line in recovery_advice(e.path.parent, e):
            print(line)
        return EXIT_REJECTED
    report = lib.check(repair=args.repair, deep=args.deep)
    for model_id, path in report.missing_files:
        print(f"missing file: model {model_id} points at {printable(path)}, which is not there")
    for model_id, problem in report.damaged:
        print(f"damaged: model {model_id}: {printable(problem)}")
    for path in report.orphan_files:
        print(f"file without a row: {printable(path)}")
    for path in report.temp_files:
        print(f"half-written file: {printable(path)}")
    for path in report.busy:
        print(f"import in progress, left alone: {printable(path)}")
    for line in report.repaired:
        print(f"repaired: {printable(line)}")
    if not args.repair:
        for model_id, name, status in report.marked:
            print(f"marked {status}: model {model_id} ({printable(name)}); add its original file again to restore it")
    if report.clean:
        deep = " (every stored file matches its sha256)" if args.deep else ""
        print(f"library at {printable(str(lib.home))} is consistent{deep}")
        return EXIT_OK
    if args.repair:
        print("repaired; run `yolodesk check` again to confirm")
        return EXIT_OK
    print("run `yolodesk check --repair` to fix these")
    return EXIT_REJECTED


def _model_command(args: argparse.Namespace, action: str) -> int:
    from app.library.repository import LibraryError

    lib = open_library()
    try:
        if action == "restore":
            trashed = [m for m in lib.models(trashed=True) if args.model in (m.id, m.name)]
            if len(trashed) != 1:
                raise LibraryError(f"no single trashed model with id or name {args.model!r}")
            m = lib.restore_model(trashed[0].id)
            print(f"restored {m.name!r} [{m.id}]")
            return EXIT_OK
        m = lib.find_model(args.model)
        if action == "delete":
            lib.trash_model(m.id)
            print(f"moved {m.name!r} [{m.id}] to the trash (kept 30 days; `yolodesk restore {m.id}` brings it back)")
        elif action == "rename":
            m = lib.rename_model(m.id, args.name)
            print(f"renamed [{m.id}] to {m.name!r}")
        elif action == "download":
            from app.library.storage import atomic_copy

            dest = Path(args.dest)
            if dest.is_dir():
                dest = dest / (m.original_filename or f"{m.name}.pt")
            atomic_copy(m.weights_path, dest)
            print(f"saved {m.name!r} to {dest}")
    except (LibraryError, OSError) as e:
        return fail(action, e, EXIT_REJECTED)
    return EXIT_OK


def cmd_projects(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError

    lib = open_library()
    try:
        if args.action == "add":
            p = lib.create_project(args.names[0])
            print(f"created project {p.name!r}")
        elif args.action == "rename":
            lib.rename_project(lib.project_by_name(args.names[0]).id, args.names[1])
            print(f"renamed project {args.names[0]!r} to {args.names[1]!r}")
        elif args.action == "delete":
            lib.delete_project(lib.project_by_name(args.names[0]).id)
            print(f"deleted project {args.names[0]!r}")
        else:
            for p in lib.projects():
                print(f"{p.name:<30}{p.model_count} model(s)")
    except LibraryError as e:
        return fail("projects", e, EXIT_REJECTED)
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """The library's subcommands, in the order ``yolodesk --help`` lists them."""
    s = sub.add_parser("inspect", help="read a checkpoint's metadata safely (no code runs)")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--json", action="store_true", help="print a JSON array, one object per file")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("import", help="add .pt files (or folders holding them) to the library")
    s.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    s.add_argument("--project", metavar="NAME")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("list", help="list the models in the library")
    s.add_argument("--project", metavar="NAME")
    s.add_argument("--trash", action="store_true", help="list the trash instead")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("check", help="find rows without files, files without rows and half-written files")
    s.add_argument("--repair", action="store_true", help="fix what was found (nothing is deleted that is not a copy)")
    s.add_argument("--deep", action="store_true", help="also verify every stored file against its sha256 (slower)")
    s.set_defaults(func=cmd_check)

    for name, helptext in (("delete", "move a model to the trash (30 days)"), ("restore", "bring a model back from the trash")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("model", metavar="MODEL", help="model id or unique name")
        s.set_defaults(func=lambda a, n=name: _model_command(a, n))
    s = sub.add_parser("rename", help="rename a model")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("name", metavar="NEW_NAME")
    s.set_defaults(func=lambda a: _model_command(a, "rename"))
    s = sub.add_parser("download", help="save a model's original .pt to a file or folder")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("dest", metavar="DEST")
    s.set_defaults(func=lambda a: _model_command(a, "download"))

    s = sub.add_parser("projects", help="list, add, rename or delete projects")
    s.add_argument("action", nargs="?", choices=("list", "add", "rename", "delete"), default="list")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.set_defaults(func=cmd_projects)
