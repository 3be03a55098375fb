"""Trash and visibility commands of the ``yolodesk`` CLI: trash [--json], trash empty, trash delete MODEL, visibility."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.cli.common import EXIT_OK, EXIT_REJECTED, fail, open_library


def cmd_trash(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError
    from app.library.untrusted import printable

    lib = open_library()
    if args.action == "empty":
        if args.model:
            return fail("trash", "`trash empty` takes no model", 2)
        print(f"deleted {len(lib.empty_trash())} model(s) for ever")
        return EXIT_OK
    if args.action == "delete":
        if not args.model:
            return fail("trash", "`trash delete` needs a model id or name", 2)
        matches = [t for t in lib.trashed() if args.model in (t.id, t.name)]
        if len(matches) != 1:
            return fail("trash", f"no single trashed model with id or name {printable(args.model)!r}", EXIT_REJECTED)
        try:
            done = lib.delete_forever([matches[0].id])
        except LibraryError as e:
            return fail("trash", e, EXIT_REJECTED)
        if not done:
            return fail("trash", f"{printable(matches[0].name)!r} is being written right now; try again", EXIT_REJECTED)
        print(f"deleted {printable(matches[0].name)!r} [{matches[0].id}] for ever")
        return EXIT_OK
    if args.model:
        return fail("trash", "a model is only taken by `trash delete MODEL`", 2)
    shown = lib.trashed()
    if args.json:
        print(json.dumps([t.to_json() for t in shown], indent=2))
        return EXIT_OK
    if not shown:
        print("the trash is empty")
        return EXIT_OK
    print(f"{'ID':<13}{'PROJECT':<14}{'NAME':<28}{'TRASHED':<18}DAYS LEFT")
    for t in shown:
        print(f"{t.id:<13}{printable(t.project)[:13]:<14}{printable(t.name)[:27]:<28}"
              f"{t.deleted_at.astimezone().strftime('%Y-%m-%d %H:%M'):<18}{t.days_left}")
    return EXIT_OK


def cmd_visibility(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError
    from app.library.untrusted import printable

    lib = open_library()
    try:
        m = lib.find_model(args.model)
        lib.set_visibility(m.id, args.visibility)
    except LibraryError as e:
        return fail("visibility", e, EXIT_REJECTED)
    print(f"{printable(m.name)!r} [{m.id}] is {args.visibility}")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """``trash`` and ``visibility``."""
    s = sub.add_parser("trash", help="list the trash; `trash empty`, `trash delete MODEL` delete for ever")
    s.add_argument("action", nargs="?", choices=("list", "empty", "delete"), default="list")
    s.add_argument("model", nargs="?", metavar="MODEL", help="with `delete`: a trashed model's id or name")
    s.add_argument("--json", action="store_true", help="print a JSON array: id, name, project, deleted_at, days_left")
    s.set_defaults(func=cmd_trash)

    s = sub.add_parser("visibility", help="make a model private or public")
    s.add_argument("model", metavar="MODEL", help="model id or unique name")
    s.add_argument("visibility", choices=("private", "public"))
    s.set_defaults(func=cmd_visibility)
