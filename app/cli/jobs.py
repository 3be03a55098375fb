"""Job commands of the ``yolodesk`` CLI: train, jobs, cancel, logs, demo-data."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from app.cli.common import (
    EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, job_manager, parse_pairs, path_exists, shown, stream_job, trust_file,
)
from app.jobs.placement import target_from


def _task_of_model(model: str) -> str:
    stem = Path(model).stem.lower()
    for suffix, task in (("-seg", "segment"), ("-pose", "pose"), ("-obb", "obb"), ("-cls", "classify")):
        if stem.endswith(suffix) or f"{suffix}-" in stem:
            return task
    return "detect"


def _data_argument(text: str) -> str:
    """``data=`` as given, ``~`` expanded; a URL stays intact (Path would fold its ``//``) so it is refused as one."""
    return text if "://" in text else str(Path(text).expanduser())


def cmd_train(args: argparse.Namespace) -> int:
    from app.jobs.args_check import default_device
    from app.jobs.spec import SpecError, TrainRequest
    from app.library.repository import LibraryError
    from app.library.untrusted import utf8_text

    try:
        kv = parse_pairs(args.pairs)
    except ValueError as e:
        return fail("train", e, EXIT_USAGE)
    if "model" not in kv or "data" not in kv:
        return fail("train", "model=… and data=… are required (e.g. model=yolo26n.yaml data=path/to/data.yaml)",
                    EXIT_USAGE)
    manager = job_manager()
    lib = manager.lib
    model, parent_id, task = str(kv.pop("model")), None, kv.pop("task", None)
    try:
        project_id = lib.project_by_name(args.project).id if args.project else lib.default_project_id
        if "://" in model:
            raise SpecError({"model": f"{model} is a URL; YOLO Desk works offline and never downloads a model"})
        if not model.endswith((".yaml", ".yml")) and not path_exists(model):
            try:
                parent = lib.find_model(utf8_text(model))  # a library model: fine-tune it
            except LibraryError as e:
                raise SpecError({"model": f"{shown(model)} is not a model file, a model YAML or a library "
                                            f"model ({shown(e, 160)})"}) from e
            model, parent_id, task = str(parent.weights_path), parent.id, task or parent.task
        elif model.endswith(".pt"):
            from app.library.checkpoint import CheckpointError, inspect_checkpoint

            try:
                task = task or inspect_checkpoint(model).task
            except CheckpointError as e:
                if not args.trust:  # a trusted file is the user's call: the agent loads it plainly
                    raise SpecError({"model": f"{model}: {e.message}"}) from e
            model = str(Path(model).resolve())  # the agent runs in the job's folder
        elif Path(model).is_file():
            model = str(Path(model).resolve())  # a model YAML of the user's (a bare name is one ultralytics ships)
        if args.trust and model.endswith(".pt"):
            trust_file(lib, model)
        req = TrainRequest(
            model=model, task=task or _task_of_model(model), data=_data_argument(str(kv.pop("data"))),
            epochs=kv.pop("epochs", 100), imgsz=kv.pop("imgsz", 640), batch=kv.pop("batch", 16),
            device=str(kv.pop("device", default_device(lib, args.worker))), extra=kv, name=args.name, project_id=project_id, parent_id=parent_id,
        )
        job = manager.submit_train(req, worker=target_from(args.worker, args.gpu_mem))
    except SpecError as e:  # refused before any job or model row exists
        for field, problem in e.problems.items():
            print(f"yolodesk train: {field}: {problem}", file=sys.stderr)
        manager.shutdown()
        return EXIT_USAGE
    except LibraryError as e:
        print(f"yolodesk train: {e}", file=sys.stderr)
        manager.shutdown()
        return EXIT_FAILED
    where = f" on {job.worker}" if job.worker != "local" else ""
    print(f"job {job.id}: training {req.model} on {req.data}{where} ({job.status.lower()})", flush=True)
    try:
        job = stream_job(manager, job.id)
    except KeyboardInterrupt:
        print("\ncancelling: training stops after the current batch…", file=sys.stderr, flush=True)
        manager.cancel(job.id)
        job = stream_job(manager, job.id)
    finally:
        manager.shutdown()
    if job.status == "Completed":
        m = lib.model(job.model_id)
        print(f"\n✓ job {job.id} completed: model {m.name!r} [{m.id}] is in the library")
        return EXIT_OK
    print(f"\n✗ job {job.id} {job.status.lower()}" + (f": {job.error}" if job.error else ""), file=sys.stderr)
    return EXIT_FAILED


def cmd_jobs(args: argparse.Namespace) -> int:
    manager = job_manager()
    jobs = manager.list_jobs()  # settles jobs whose owner and agent are both gone first
    keys = ("id", "kind", "status", "model", "worker", "created", "started", "finished", "error")
    if args.json:
        print(json.dumps([{k: j.to_json()[k] for k in keys} for j in jobs], indent=2))
        return EXIT_OK
    if not jobs:
        print("no jobs")
        return EXIT_OK
    print(f"{'ID':<13}{'KIND':<7}{'STATUS':<11}{'MODEL':<14}{'WORKER':<8}{'CREATED':<18}ERROR")
    for j in jobs:
        created = j.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"{j.id:<13}{j.kind:<7}{j.status:<11}{(j.model_id or '—'):<14}{j.worker:<8}{created:<18}"
              f"{(j.error or '')[:60]}")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    from app.jobs.manager import CANCEL_GRACE
    from app.library.repository import LibraryError

    manager = job_manager()
    try:
        job = manager.cancel(args.job)
    except LibraryError as e:
        return fail("cancel", e)
    if job.finished:
        print(f"job {job.id} is {job.status.lower()}")
        manager.shutdown()
        return EXIT_OK if job.status == "Cancelled" else EXIT_FAILED
    print(f"job {job.id}: asked to stop (it stops after the current batch)…", flush=True)
    deadline = time.monotonic() + CANCEL_GRACE + 15
    while time.monotonic() < deadline:
        manager.recover()  # settles the job here when no other process supervises it
        job = manager.store.get(job.id)
        if job.finished:
            break
        time.sleep(0.3)
    manager.shutdown()
    print(f"job {job.id} is {job.status.lower()}")
    return EXIT_OK if job.status == "Cancelled" else EXIT_FAILED


def cmd_logs(args: argparse.Namespace) -> int:
    from app.jobs.events import console_text, read_all
    from app.library.repository import LibraryError

    manager = job_manager()
    try:
        job = manager.store.get(args.job)
    except LibraryError as e:
        return fail("logs", e)
    if args.follow and not job.finished:
        stream_job(manager, job.id)
    else:
        sys.stdout.write(console_text(read_all(job.events_path)))
    if job.error:
        print(f"\n{job.status}: {job.error}", file=sys.stderr)
    return EXIT_OK


def cmd_demo_data(args: argparse.Namespace) -> int:
    from app.demo_data import TASKS, write_dataset

    tasks = TASKS if args.task == "all" else (args.task,) if args.task else ("detect", "classify")
    root = Path(args.dir).expanduser()
    for task in tasks:
        path = write_dataset(root / f"shapes-{task}", task, n_train=args.train, n_val=args.val, size=args.size)
        print(f"{task:<9} {path}")
    print(f"\ntrain one: yolodesk train model=yolo26n.yaml data={root / 'shapes-detect' / 'data.yaml'} epochs=30 imgsz=128")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("train", help="train a model (a job: watch it in the window, cancel it from anywhere)")
    s.add_argument("pairs", nargs="*", metavar="key=value", help="model=yolo26n.yaml data=… epochs=… imgsz=…")
    s.add_argument("--project", metavar="NAME")
    s.add_argument("--name", metavar="NAME", help="name of the new model")
    s.add_argument("--worker", metavar="NAME", help="train on this worker (see `yolodesk workers`); device=0 for its GPU; "
                   "any-gpu: whichever worker has a GPU free (the job waits for one)")
    s.add_argument("--gpu-mem", type=float, metavar="GiB",
                   help="with --worker any-gpu: a free GPU with at least this much memory (SSH workers measure it)")
    s.add_argument("--trust", action="store_true", help="trust the .pt trained from (its sha256 is remembered): it "
                                                        "loads even if the safe loader refuses it, running its code")
    s.set_defaults(func=cmd_train)
    s = sub.add_parser("jobs", help="list jobs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_jobs)
    s = sub.add_parser("cancel", help="cancel a queued or running job")
    s.add_argument("job", metavar="JOB")
    s.set_defaults(func=cmd_cancel)
    s = sub.add_parser("logs", help="print a job's console")
    s.add_argument("job", metavar="JOB")
    s.add_argument("-f", "--follow", action="store_true")
    s.set_defaults(func=cmd_logs)
    s = sub.add_parser("demo-data", help="write small synthetic data sets to train on")
    s.add_argument("dir", metavar="DIR")
    s.add_argument("--task", choices=("detect", "segment", "pose", "obb", "classify", "all"))
    s.add_argument("--train", type=int, default=64, help="training images per data set")
    s.add_argument("--val", type=int, default=16)
    s.add_argument("--size", type=int, default=128, help="image size in pixels")
    s.set_defaults(func=cmd_demo_data)
