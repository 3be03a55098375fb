"""The ``yolodesk`` parser and ``main``: each area adds its subcommands; without a command the window opens.

Exit codes: 0 when every input was fine, 1 when any was rejected or an operation failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.cli import deploy, exports, jobs, library, predict, workers
from app.cli.common import EXIT_REJECTED

COMMANDS: set[str] = set()  # filled by build_parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the areas' order is the order ``yolodesk --help`` lists their commands in."""
    p = argparse.ArgumentParser(prog="yolodesk", description="YOLO Desk: a desktop workbench for YOLO models.")
    p.add_argument("--version", action="version", version=f"yolodesk {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for area in (library, jobs, workers, predict, exports, deploy):
        area.add_parsers(sub)
    COMMANDS.update(sub.choices)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (or open the window) and return its exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-") and all(Path(a).exists() for a in argv):
        from app.gui import main as gui_main  # `yolodesk FILE…` (the desktop entry's %F): open and add them

        return gui_main(paths=argv)
    args = parser.parse_args(argv)
    if args.command is None:
        from app.gui import main as gui_main

        return gui_main()
    if args.command == "projects":
        need = {"add": 1, "rename": 2, "delete": 1, "list": 0}[args.action]
        if len(args.names) != need:
            parser.error(f"projects {args.action} takes {need} name(s)")
    if args.command == "toolchains" and args.action in ("install", "remove") and not args.name:
        parser.error(f"toolchains {args.action} needs a toolchain name")
    from app.library.db import LibraryUnavailable, SchemaTooNew

    try:
        return int(args.func(args))
    except (SchemaTooNew, LibraryUnavailable) as e:
        print(f"yolodesk: {e}", file=sys.stderr)
        return EXIT_REJECTED
    except KeyboardInterrupt:
        return 130
