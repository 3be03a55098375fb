"""Training as a job kind: a model row Queued at submit, Training while it runs, its best ``.pt`` at the end.

The agent side is ``remote_agent/train.py`` (``KINDS["train"]`` in ``remote_agent/run.py``). The weights the
agent reports go through the library's import checks (the same inspector as a dropped file) into the model
row created at submit; a worker's weights are fetched and checked against their sha256 first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.jobs.job_kind import STORE_KEYS, JobContext, JobKind, KindFailure, localize
from app.jobs.spec import TrainRequest
from app.jobs.store import JobRecord
from app.jobs.transport import Transport
from app.jobs.trust import trusted_for
from app.library.architecture import architecture_from_yaml
from app.library.checkpoint import CheckpointError
from app.library.repository import LibraryError
from app.validation.val_job import queue_after_training


class TrainKind(JobKind):
    """``train``: ultralytics' trainer on the agent; the result is a model in the library."""

    name = "train"

    def default_limit(self) -> int:
        """One local training at a time unless ``YOLODESK_MAX_LOCAL_TRAININGS`` says otherwise."""
        try:
            n = int(os.environ.get("YOLODESK_MAX_LOCAL_TRAININGS", "1"))
        except ValueError:
            n = 1
        return max(1, n)

    def submit(self, ctx: JobContext, req: TrainRequest, worker: str | None = None) -> JobRecord:
        """Check the request (device against the chosen machine), create the model row (Queued) and its job."""
        from app.jobs.args_check import devices_on  # H3: device= is checked against the chosen machine's devices

        lib = ctx.lib
        worker = ctx.worker_name(worker or req.worker)
        ds = req.validate(devices=devices_on(lib, worker))
        project_id = req.project_id or lib.default_project_id
        dataset = lib.add_dataset(ds.location, ds.name, ds.task, ds.names)
        if req.parent_id:
            parent = lib.model(req.parent_id)
            arch, family, scale = parent.architecture, parent.family, parent.scale
        else:
            a = architecture_from_yaml({"yaml_file": Path(req.model).name}, req.task)
            arch, family, scale = req.architecture or a.name, a.family, a.scale
        name = req.name or f"{arch or Path(req.model).stem}-{ds.name}"
        model = lib.create_pending_model(
            project_id, name, task=req.task, architecture=arch, family=family, scale=scale, class_names=ds.names,
            nc=len(ds.names), imgsz=int(req.imgsz), train_args=req.agent_args(), parent_id=req.parent_id,
            dataset_id=dataset.id, dataset_ref=ds.location, status="Queued",
        )
        spec = {"args": req.agent_args(), "trusted_sha256": trusted_for(lib, req.model)}
        return ctx.enqueue(ctx.new_job(self.name, spec, project_id, model.id, worker=worker))

    def started(self, ctx: JobContext, job: JobRecord) -> None:
        if job.model_id:
            ctx.lib.set_model_status(job.model_id, "Training")

    def complete(self, ctx: JobContext, job: JobRecord, state: str, result: dict[str, Any],
                 transport: Transport) -> dict[str, Any]:
        """Attach the best weights (the last ones after a cancel) to the model row; Completed or Cancelled."""
        from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

        status = "Completed" if state == "completed" else "Cancelled"
        weights = result.get("best") or result.get("last")
        if weights and job.worker != "local":
            try:
                weights = str(localize(job, transport, weights))
            except (SSHError, OSError) as e:
                raise KindFailure(f"training finished on {job.worker} but its weights could not be fetched: {e}",
                                  result) from e
        if job.model_id and weights and Path(weights).exists():
            try:
                ctx.lib.attach_checkpoint(job.model_id, weights, status)
            except (CheckpointError, OSError, LibraryError) as e:
                msg = e.message if isinstance(e, CheckpointError) else str(e)
                raise KindFailure(f"training finished but its weights could not be added: {msg}", result) from e
            if state == "completed":
                result = {**result, **queue_after_training(ctx, job)}  # its validation, on the same machine
        elif job.model_id:
            if state == "completed":
                raise KindFailure("training finished without writing weights", result)
            ctx.lib.set_model_status(job.model_id, "Cancelled")
        return result

    def ended(self, ctx: JobContext, job: JobRecord, status: str, error: str | None) -> None:
        if job.model_id:
            ctx.lib.set_model_status(job.model_id, status)

    def retry(self, ctx: JobContext, old: JobRecord) -> JobRecord:
        """The same arguments on the same machine into the same model row; the weights' trust looked up anew."""
        worker = ctx.worker_name(old.worker)
        if old.model_id:
            ctx.lib.set_model_status(old.model_id, "Queued")
        args = old.spec.get("args", {})
        spec = {k: v for k, v in old.spec.items() if k not in STORE_KEYS}
        spec.update(args=args, trusted_sha256=trusted_for(ctx.lib, args.get("model")))  # trusted since, perhaps
        return ctx.enqueue(ctx.new_job(self.name, spec, old.project_id, old.model_id, worker, retry_of=old.id))


TRAIN = TrainKind()
