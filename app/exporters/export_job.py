"""Export as a job kind: every argument checked before a job exists, an export row beside the job, the artifact
copied into ``models/<id>/exports/<format>/`` with the agent's verification at the end.

The agent side is ``remote_agent/export.py`` (``KINDS["export"]`` in ``remote_agent/run.py``): ultralytics'
exporter on the model's weights, then a check that the artifact loads and agrees with the ``.pt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.exporters.args_check import check_export_args
from app.exporters.availability import PRECISION_MODULES, availability, missing_for_args
from app.exporters.int8 import ACCURACY_KEY, TOLERANCE_POINTS, Int8Refused, calibration_data, is_int8, row_format
from app.exporters.registry import FP32_UNSUPPORTED_FORMATS, ExportFormat, get, restriction
from app.exporters.store import ExportStore
from app.exporters.toolchains import Toolchains, toolchain_for
from app.jobs.job_kind import JobContext, JobKind, KindFailure, localize
from app.jobs.store import JobRecord
from app.jobs.transport import Transport
from app.jobs.trust import trusted_for
from app.library.records import ModelRecord
from app.library.repository import Library, LibraryError

ACTIVE = ("Queued", "Starting", "Running")
AGENT_KEYS = ("model", "format", "device")  # set by the spec, not by the user: a retry leaves them out


def _set_row(lib: Library, job_id: str, **fields: Any) -> None:
    """Update the export row of a job (there is none for a job made by hand, as tests do)."""
    store = ExportStore(lib)
    rec = store.by_job(job_id)
    if rec is not None:
        store.set(rec.id, **fields)


def _check_where(lib: Library, spec_format: ExportFormat, args: dict[str, Any], worker: str) -> None:
    """Refuse a format the chosen machine cannot export to (a missing package here, or on the worker)."""
    if worker == "local":
        state, why = availability(spec_format, home=lib.home)
        if state != "ready":
            raise LibraryError(f"{spec_format.name}: {why}")
        return
    from app.jobs.placement import is_target

    if is_target(worker):
        return  # checked against each worker the job could be placed on (app.jobs.placement.placed_spec)
    from app.jobs.workers import WorkerStore, worker_can_export  # paramiko loads only for a worker's export

    record = WorkerStore(lib).get(worker)
    problem = worker_can_export(record, spec_format, args) or _missing_on_worker(record, spec_format.argument, args)
    if problem:
        raise LibraryError(problem)


def _missing_on_worker(worker: Any, fmt: str, args: dict[str, Any]) -> str | None:
    """A package the chosen precision needs (nncf for OpenVINO INT8) that the worker's last test found missing.

    A worker tested by an older agent does not list it: not known, not refused (the export says so if it fails).
    """
    packages = (worker.info or {}).get("packages") or {}
    missing = [spec for module, spec in PRECISION_MODULES.get((fmt, args.get("quantize")), ())
               if module in packages and not packages[module]]
    if not missing:
        return None
    return (f"{fmt} with quantize={args.get('quantize')} needs {', '.join(missing)} on {worker.name}, which it "
            f"lacks: pip install {' '.join(repr(m) for m in missing)} there (with its interpreter), then test it again")


def _calibration_data(model: ModelRecord, spec_format: ExportFormat, fmt: str, args: dict[str, Any]) -> None:
    """A quantizing export needs calibration images here: the model's own data set, or the user's ``data=``."""
    if is_int8(fmt, args):  # calibrated on the model's own data set and checked on its validation images
        try:
            args["data"] = calibration_data(model.name, model.dataset.location if model.dataset else model.dataset_ref,
                                            args.get("data"))
        except Int8Refused as e:
            raise LibraryError(str(e)) from None
        return
    calibrated = args.get("quantize") in (8, "w8a16") or (fmt in FP32_UNSUPPORTED_FORMATS and not args.get("quantize"))
    if calibrated and "data" in spec_format.args and not args.get("data"):
        local = model.dataset.location if model.dataset else model.dataset_ref
        if not local or not Path(local).exists():  # ultralytics would download a calibration set: never offline
            raise LibraryError(f"{spec_format.name} quantizes with calibration images: give data=… (a data.yaml "
                               "on this machine); the model's own data set is not here")
        args["data"] = local


def _check_shippable(args: dict[str, Any], worker: str) -> None:
    """A worker calibrates on a copy of the local data set (sent as a training's is): refuse one that cannot go."""
    data = args.get("data")
    if worker == "local" or not isinstance(data, str) or not Path(data).exists():
        return  # (a data= that is not here names a data set on the worker: it is used there as given)
    import yaml

    from app.jobs.ssh_transport import outside_root  # paramiko loads only for a worker's export

    try:
        problem = outside_root(Path(data))
    except (OSError, ValueError, AttributeError, yaml.YAMLError) as e:  # unreadable, or not a mapping of splits
        problem = f"{Path(data).name} cannot be read to send it to {worker}: {str(e).splitlines()[0][:200]}"
    if problem:
        raise LibraryError(f"the calibration data set cannot go to {worker}: {problem}")


class ExportKind(JobKind):
    """``export``: one job per (model, format, arguments); the result is an artifact beside the model."""

    name = "export"

    def default_limit(self) -> int:
        return 2

    def submit(self, ctx: JobContext, model_id: str, fmt: str, args: dict[str, Any] | None = None,
               worker: str | None = None, int8_tolerance: float = TOLERANCE_POINTS) -> JobRecord:
        """Queue one export of a model (one per model and format at a time); refuses what cannot work there.

        ``int8_tolerance``: how many points of mAP50 (top-1 for classify) an INT8 export may lose against the .pt.
        """
        lib = ctx.lib
        worker = ctx.worker_name(worker)
        model = lib.model(model_id)
        if not model.has_weights:
            raise LibraryError(f"{model.name!r} has no weights to export yet")
        spec_format = get(fmt)
        args = {k: v for k, v in (args or {}).items() if v is not None}
        check_export_args(spec_format, args, model.task, worker)  # H3: every argument checked before a job exists
        _check_where(lib, spec_format, args, worker)
        args.setdefault("imgsz", model.imgsz if isinstance(model.imgsz, int) else 640)
        unknown = [k for k in args if k not in spec_format.args and k not in ("imgsz", "device")]
        if unknown:
            raise LibraryError(f"{spec_format.name} does not take {', '.join(unknown)} "
                               f"(it takes imgsz, {', '.join(spec_format.args)})")
        here = missing_for_args(fmt, args) if worker == "local" else None  # a worker's packages: _check_where
        problem = restriction(spec_format, model.task, model.architecture, args) or here
        if problem:
            raise LibraryError(problem)
        _calibration_data(model, spec_format, fmt, args)
        _check_shippable(args, worker)
        exports = ExportStore(lib)
        row = row_format(fmt, args)  # an INT8 export sits beside the FP32 one of its format
        busy = [e for e in exports.for_model(model_id) if e.format == row and e.status in ACTIVE]
        if busy:
            raise LibraryError(f"an export of {model.name!r} to {spec_format.name} is already {busy[0].status.lower()}")
        agent_args = {"model": str(model.weights_path), "format": fmt, "device": "cpu", **args}
        spec: dict[str, Any] = {"args": agent_args, "task": model.task, "verify": True,
                                "trusted_sha256": trusted_for(lib, model.weights_path)}
        if is_int8(fmt, args):
            spec["int8_tolerance"] = float(int8_tolerance)
        tc = toolchain_for(fmt)
        if tc is not None and worker == "local":  # run the agent with the toolchain's interpreter
            spec["python"] = str(Toolchains(lib.home).python(tc.name))
        job = ctx.new_job(self.name, spec, model.project_id, model.id, worker=worker)
        exports.create(model.id, row, args, job_id=job.id)  # before it is scheduled: ``started`` marks this row
        return ctx.enqueue(job)

    def started(self, ctx: JobContext, job: JobRecord) -> None:
        _set_row(ctx.lib, job.id, status="Running")

    def complete(self, ctx: JobContext, job: JobRecord, state: str, result: dict[str, Any],
                 transport: Transport) -> dict[str, Any]:
        """Copy the artifact into the library (fetched from a worker and checked first) and fill the row."""
        from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

        if state == "cancelled":
            _set_row(ctx.lib, job.id, status="Cancelled")
            return result
        store = ExportStore(ctx.lib)
        try:
            artifact = localize(job, transport, result["path"], result.get("sha256"))
            row = row_format(result["format"], job.spec.get("args", {}))
            placed = store.place(job.model_id or "", row, artifact)
        except (OSError, KeyError, SSHError) as e:
            raise KindFailure(f"the export finished but could not be stored: {e}", result) from e
        extra: dict[str, Any] = {}
        rec = store.by_job(job.id)
        if rec is not None and isinstance(result.get("accuracy"), dict):  # the INT8 check's figures, kept with the row
            extra["args"] = {**rec.args, ACCURACY_KEY: result["accuracy"]}
        _set_row(ctx.lib, job.id, **extra, status="Completed", path=str(placed), size=result.get("size"),
                 sha256=result.get("sha256"), verified=bool(result.get("verified")),
                 verification=result.get("detail"), seconds=result.get("seconds"), error=None)
        return {**result, "path": str(placed)}

    def ended(self, ctx: JobContext, job: JobRecord, status: str, error: str | None) -> None:
        if status == "Failed":
            _set_row(ctx.lib, job.id, status="Failed", error=error)
        else:
            _set_row(ctx.lib, job.id, status=status)

    def retry(self, ctx: JobContext, old: JobRecord) -> JobRecord:
        """The same format and arguments on the same machine, checked again (the format may be gone since)."""
        args = {k: v for k, v in old.spec.get("args", {}).items() if k not in AGENT_KEYS}
        return self.submit(ctx, old.model_id or "", old.spec["args"]["format"], args, worker=old.worker)


EXPORT = ExportKind()
