"""Validation as a job kind: every argument checked at submit, the capture copied into the library at the end.

The agent side is ``remote_agent/val.py`` (``KINDS["val"]`` in ``remote_agent/run.py``). A worker's capture is
fetched and checked against its sha256, and its image paths (the worker's copy of the data set) are mapped back
to the data set on this machine, so that a cell of the matrix can show its pictures here.

After every completed training a ``val`` job of the new model is queued on the same machine
(:func:`queue_after_training`), rather than capturing the trainer's own final validation: that one runs with
the training's ``plots`` and ``val`` arguments (``plots=False`` leaves ultralytics' detection matrix empty,
``val=False`` skips it), inside the trainer's own validator class, on weights loaded past the gate. A separate
job costs one agent start and one pass over the validation images, and is the same code as an on-demand one.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from app.jobs.job_kind import JobContext, JobKind, KindFailure, localize
from app.jobs.spec import SpecError
from app.jobs.store import JobRecord
from app.jobs.transport import Transport
from app.jobs.trust import trusted_for
from app.library.repository import Library, LibraryError
from app.validation.store import ValidationError, add_validation, read_capture_file
from app.validation.val_args import check_val_request

AGENT_KEYS = ("model", "data", "split")  # set from the request, not passed as key=value on a retry
FROM_TRAINING = ("imgsz", "device", "workers")  # what the automatic validation keeps of the training


class ValKind(JobKind):
    """``val``: ultralytics' validator on a library model; the result is a validation row and its capture."""

    name = "val"

    def submit(self, ctx: JobContext, model_id: str, data: str | None = None, split: str = "val",
               worker: str | None = None, *, schedule: bool = True, **args: Any) -> JobRecord:
        """Check the request (data set, split, arguments, device on that machine), then queue one validation.

        ``schedule=False`` leaves the Queued row for the manager's next scheduling pass (see
        :func:`queue_after_training`)."""
        lib = ctx.lib
        worker = ctx.worker_name(worker)
        model = lib.model(model_id)
        if not model.has_weights:
            raise LibraryError(f"{model.name!r} has no weights to validate yet")
        args = {k: v for k, v in args.items() if v is not None}
        location, ds_name, ds_names = check_val_request(lib, model, data, split, args, worker)
        dataset = lib.add_dataset(location, ds_name, model.task, ds_names)
        args.setdefault("imgsz", model.imgsz if isinstance(model.imgsz, int) else 640)
        spec = {"args": {"model": str(model.weights_path), "data": location, "split": split, **args},
                "task": model.task, "dataset_id": dataset.id,
                "trusted_sha256": trusted_for(lib, model.weights_path)}
        job = ctx.new_job(self.name, spec, model.project_id, model.id, worker=worker)
        return ctx.enqueue(job) if schedule else job

    def complete(self, ctx: JobContext, job: JobRecord, state: str, result: dict[str, Any],
                 transport: Transport) -> dict[str, Any]:
        """Copy the capture into the model's folder and write its row (a worker's fetched and checked first)."""
        from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

        if state == "cancelled" or not job.model_id:
            return result
        args = job.spec.get("args", {})
        try:
            capture_file = localize(job, transport, result["path"], result.get("sha256"))
            if job.worker != "local":
                capture_file = _as_local(capture_file, str(args.get("data")))
            rec = add_validation(ctx.lib, job.model_id, capture_file, job_id=job.id, data=str(args.get("data")),
                                 split=str(args.get("split", "val")), args=result.get("args") or {},
                                 summary=result.get("summary") or {}, dataset_id=job.spec.get("dataset_id"))
        except (OSError, KeyError, SSHError, LibraryError) as e:
            raise KindFailure(f"the validation finished but could not be stored: {e}", result) from e
        return {**result, "path": rec.path, "validation_id": rec.id}

    def retry(self, ctx: JobContext, old: JobRecord) -> JobRecord:
        """The same model, data set, split and arguments on the same machine, checked again."""
        a = old.spec.get("args", {})
        rest = {k: v for k, v in a.items() if k not in AGENT_KEYS}
        return self.submit(ctx, old.model_id or "", a.get("data"), a.get("split", "val"), old.worker, **rest)


def _data_root(data: str) -> Path:
    """The folder a data set's files are under: a classification folder itself, else the data.yaml's ``path``."""
    from remote_agent.data_check import load_yaml_like_ultralytics

    p = Path(data)
    if p.is_dir():
        return p.resolve()
    desc = load_yaml_like_ultralytics(p)
    base = Path(desc.get("path") or p.parent) if isinstance(desc, dict) else p.parent
    return (base if base.is_absolute() else (p.parent / base)).resolve()


def _as_local(capture_file: Path, local_data: str) -> Path:
    """A worker's capture with its image paths moved from the worker's copy of the data set to ours."""
    capture = read_capture_file(capture_file)
    remote_root = str(capture.get("data_root") or "").rstrip("/")
    local_root = str(_data_root(local_data))
    if remote_root:
        for image in capture["images"]:
            f = str(image.get("file", ""))
            if f == remote_root or f.startswith(remote_root + "/"):
                image["file"] = local_root + f[len(remote_root):]
    capture.update(data=local_data, data_root=local_root)
    out = Path(tempfile.mkdtemp(prefix="yolodesk-val-", dir=capture_file.parent)) / capture_file.name
    out.write_text(json.dumps(capture, separators=(",", ":")), encoding="utf-8")
    return out


def start_validation(lib: Library, jobs: JobContext, model_id: str, data: str | None = None, split: str = "val",
                     worker: str = "local", **args: Any) -> JobRecord:
    """Queue a validation of a library model (the window's and the CLI's entry; ``jobs`` is the JobManager)."""
    if jobs.lib is not lib and Path(jobs.lib.home) != Path(lib.home):
        raise LibraryError("the job manager runs another library")
    return VAL.submit(jobs, model_id, data, split, worker, **args)


def queue_after_training(ctx: JobContext, train_job: JobRecord) -> dict[str, Any]:
    """Queue the automatic validation of a finished training's model; what to add to the training's result.

    A refusal (the data set gone since, say) does not fail the training: it is reported in the result. The row is
    left Queued, not started here: the manager schedules again once the training has released its worker folder
    (starting it now raced that release for the worker's SSH link, and the folder stayed).
    """
    if not train_job.model_id:
        return {}
    train_args = train_job.spec.get("args", {})
    args = {k: train_args[k] for k in FROM_TRAINING if train_args.get(k) not in (None, "")}
    try:
        job = VAL.submit(ctx, train_job.model_id, str(train_args.get("data") or "") or None, "val",
                         train_job.worker, schedule=False, **args)
    except (SpecError, LibraryError, ValidationError) as e:
        return {"validation_error": str(e)}
    return {"validation_job": job.id}


VAL = ValKind()
