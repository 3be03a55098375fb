"""The ``yolodesk`` parser and ``main``: each area adds its subcommands; without a command the window opens.

Exit codes: 0 when every input was fine, 1 when any was rejected or an operation failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app import __version__
from app.cli import clone, datasets, deploy, exports, jobs, library, predict, trash, validation, workers
from app.cli.common import EXIT_REJECTED, HomeUnusable, fail, os_problem, path_exists

COMMANDS: set[str] = set()  # filled by build_parser
# Arguments that name a row (model, project, job, worker…), never a file: SQLite's TEXT cannot take undecodable bytes
# (surrogate escapes), so they are written as \xff — the form a name taken from such a file name is stored in.
ROW_REFERENCES = ("model", "name", "names", "project", "job", "backend", "worker", "host", "user", "trust")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the areas' order is the order ``yolodesk --help`` lists their commands in."""
    p = argparse.ArgumentParser(prog="yolodesk", description="YOLO Desk: a desktop workbench for YOLO models.")
    p.add_argument("--version", action="version", version=f"yolodesk {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for area in (library, clone, trash, jobs, workers, predict, exports, deploy, datasets, validation):
        area.add_parsers(sub)
    COMMANDS.update(sub.choices)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (or open the window) and return its exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-") and all(map(path_exists, argv)):
        from app.gui import main as gui_main  # `yolodesk FILE…` (the desktop entry's %F): open and add them

        return gui_main(paths=argv)
    args = parser.parse_args(argv)
    _as_row_references(args)
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
    except (SchemaTooNew, LibraryUnavailable, HomeUnusable) as e:
        print(f"yolodesk: {e}", file=sys.stderr)
        return EXIT_REJECTED
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # a path the system refuses (too long, a folder where a file goes, a full disk…)
        return fail(args.command, os_problem(e))
    except Exception as e:  # the last line of defence: one line, not a traceback (YOLODESK_DEBUG=1 shows it)
        if os.environ.get("YOLODESK_DEBUG"):
            raise
        from app.library.untrusted import printable

        return fail(args.command, f"{printable(type(e).__name__)}: {printable(str(e))[:300]} (an internal error; "
                                  f"YOLODESK_DEBUG=1 prints the traceback)")


def _as_row_references(args: argparse.Namespace) -> None:
    """Row references (see ``ROW_REFERENCES``) made valid UTF-8; ``predict MODEL`` may be a file, so it keeps its bytes."""
    from app.library.untrusted import utf8_text

    for dest in ROW_REFERENCES:
        value = getattr(args, dest, None)
        if dest == "model" and args.command == "predict":
            continue
        if isinstance(value, str):
            setattr(args, dest, utf8_text(value))
        elif isinstance(value, list):
            setattr(args, dest, [utf8_text(v) if isinstance(v, str) else v for v in value])
