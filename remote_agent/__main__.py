"""Command line of the agent: ``python -m remote_agent info [--json] [--no-torch]``."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="remote_agent")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="report Python, torch, ultralytics, CUDA devices, CPU, RAM and disk")
    s.add_argument("--json", action="store_true")
    s.add_argument("--no-torch", action="store_true", help="skip importing torch (faster; no CUDA probe)")
    args = p.parse_args(argv)
    if args.command == "info":
        from remote_agent.info import collect

        info = collect(with_torch=not args.no_torch)
        if args.json:
            print(json.dumps(info))
        else:
            for k, v in info.items():
                print(f"{k:<14}{v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
