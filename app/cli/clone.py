"""``yolodesk clone MODEL --project NAME [--move] [--json]``: a model cloned (or moved) into another project."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.cli.common import EXIT_OK, EXIT_REJECTED, fail, open_library


def cmd_clone(args: argparse.Namespace) -> int:
    """Clone (hard links where possible) or move a model; ``--json`` prints the result as ``list --json`` does."""
    from app.cli.library import model_json
    from app.library.clone import clone_model
    from app.library.repository import LibraryError
    from app.library.untrusted import printable

    command = "clone"
    lib = open_library()
    try:
        original = lib.find_model(args.model)
        m = clone_model(lib, original.id, args.project, move=args.move)
    except LibraryError as e:
        return fail(command, printable(str(e)), EXIT_REJECTED)
    if args.json:
        print(json.dumps(model_json(m), indent=2, default=str))
    elif args.move:
        renamed = f" as {printable(m.name)!r}" if m.name != original.name else ""
        print(f"moved {printable(original.name)!r} [{m.id}] to project {printable(m.project)!r}{renamed}")
    else:
        print(f"cloned {printable(original.name)!r} [{original.id}] to project {printable(m.project)!r} as "
              f"{printable(m.name)!r} [{m.id}]")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """The ``clone`` subcommand."""
    s = sub.add_parser("clone", help="clone a model into another project (or --move it there)")
    s.add_argument("model", metavar="MODEL", help="model id or unique name")
    s.add_argument("--project", required=True, metavar="NAME", help="the target project")
    s.add_argument("--move", action="store_true", help="move the model itself instead (same id, exports follow)")
    s.add_argument("--json", action="store_true", help="print the resulting model as `list --json` prints one")
    s.set_defaults(func=cmd_clone)
