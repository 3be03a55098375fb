"""Command line of the agent: ``run SPEC.json``, ``info [--json] [--no-torch]``, and job control (``jobctl``)."""

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
    s = sub.add_parser("run", help="run one job spec and write its events on stdout")
    s.add_argument("spec", help="path to the job spec (JSON), or - for stdin")
    for name, help_ in (("spawn", "start JOBDIR/spec.json detached, events to JOBDIR/events.jsonl"),
                        ("alive", "whether the job's agent still runs"),
                        ("cancel", "SIGTERM the job's agent, SIGKILL its group after --grace seconds"),
                        ("forget", "delete a finished job's folder (refused while its processes run)"),
                        ("reap", argparse.SUPPRESS)):
        s = sub.add_parser(name, help=help_)
        s.add_argument("job_dir")
        s.add_argument("--grace", type=float, default=30.0)
    s = sub.add_parser("receive", help="write stdin to PATH from --offset, print its size and sha256 (JSON)")
    s.add_argument("path")
    s.add_argument("--offset", type=int, default=0)
    s = sub.add_parser("digest", help="size and sha256 of a file or folder (JSON)")
    s.add_argument("path")
    s.add_argument("--files", action="store_true", help="one entry per file too")
    args = p.parse_args(argv)
    if args.command in ("spawn", "alive", "cancel", "forget", "reap", "digest", "receive"):
        from remote_agent import jobctl

        if args.command == "spawn":
            out = jobctl.spawn(args.job_dir)
        elif args.command == "alive":
            out = jobctl.alive(args.job_dir)
        elif args.command == "cancel":
            out = jobctl.cancel(args.job_dir, args.grace)
        elif args.command == "forget":
            out = jobctl.forget(args.job_dir)
        elif args.command == "receive":
            out = jobctl.receive(args.path, args.offset)
        elif args.command == "digest":
            out = jobctl.digest(args.path, args.files)
        else:
            jobctl.reap(args.job_dir, args.grace)
            return 0
        print(json.dumps(out))
        return 0
    if args.command == "run":
        import os

        from remote_agent.run import run

        code = run(args.spec)
        # Every event is written (unbuffered os.write) and ultralytics has closed its files: skip the
        # interpreter's teardown of torch and its threads, which only delays the job's end.
        os._exit(code)
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
