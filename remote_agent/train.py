"""A training job: ultralytics' own trainer, with callbacks that emit ``epoch`` and ``progress`` events."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from remote_agent.events import Emitter


class CancelFlag:
    """Set by SIGTERM; the trainer stops at the next batch end (``trainer.stop``), keeping last.pt."""

    def __init__(self) -> None:
        self.requested = False
        self.trainer: Any = None

    def request(self) -> None:
        self.requested = True
        if self.trainer is not None:
            self.trainer.stop = True


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def epoch_metrics(trainer: Any) -> dict[str, Any]:
    """What ultralytics writes to results.csv for this epoch: train losses, val metrics and losses, lr/pg*."""
    out: dict[str, Any] = {}
    if trainer.tloss is not None:
        out.update(trainer.label_loss_items(trainer.tloss, prefix="train"))
    out.update(trainer.metrics or {})
    out.update(getattr(trainer, "lr", {}) or {})
    return out


def refuse_unsafe_model_yaml(source: str) -> None:
    """A model YAML file given by path is checked as a checkpoint's config is (names ultralytics defines, literals);
    a bare name (``yolo26n.yaml``) is one that ships inside ultralytics."""
    path = Path(source)
    if not path.is_file():
        return
    from remote_agent.checkpoint_scan import CheckpointError
    from remote_agent.data_check import load_yaml_like_ultralytics
    from remote_agent.model_config import check_model_config

    cfg = load_yaml_like_ultralytics(path)
    try:
        check_model_config(cfg if isinstance(cfg, dict) else {"backbone": None})
    except CheckpointError as e:
        raise ValueError(f"{path.name}: {e.message}") from e


def run_train(spec: dict[str, Any], emitter: Emitter, cancel: CancelFlag) -> tuple[str, dict[str, Any]]:
    """Train; return ("completed" | "cancelled", result)."""
    from remote_agent.data_check import refuse_unsafe_data

    refuse_unsafe_data(spec["args"]["data"])  # H3: a data set ultralytics would exec or fetch is refused first
    from ultralytics import YOLO

    from remote_agent.gate import load_yolo

    args = dict(spec["args"])
    source = args.pop("model")
    run_dir = Path(spec["run_dir"])
    if str(source).endswith(".pt"):  # fine-tuning: the weights come through the loading gate, as a private copy
        model = load_yolo(source, task=args.get("task"), trusted=spec.get("trusted_sha256") or (),
                          copy_to=run_dir / "weights-in" / Path(source).name)
    else:
        refuse_unsafe_model_yaml(source)  # a YAML of the user's goes through the inspector's config check too
        model = YOLO(source, task=args.get("task"))  # built from a YAML (ultralytics' restricted builder), not unpickled
    last_progress = [0.0]
    batches = [0]
    started_epochs: set[int] = set()

    def on_train_epoch_start(trainer: Any) -> None:
        batches[0] = 0
        started_epochs.add(trainer.epoch)

    def on_train_start(trainer: Any) -> None:
        cancel.trainer = trainer
        emitter.emit("progress", done=0, total=trainer.epochs, label="epochs", epochs=trainer.epochs)
        if cancel.requested:
            trainer.stop = True

    def on_train_batch_end(trainer: Any) -> None:
        if cancel.requested:
            trainer.stop = True
        batches[0] += 1
        now = time.monotonic()
        if now - last_progress[0] >= 0.5:
            last_progress[0] = now
            nb = len(trainer.train_loader) if trainer.train_loader is not None else 0
            done = trainer.epoch + (min(batches[0], nb) / nb if nb else 0)
            emitter.emit("progress", done=round(done, 3), total=trainer.epochs, label=f"epoch {trainer.epoch + 1}")

    def on_fit_epoch_end(trainer: Any) -> None:
        if trainer.epoch not in started_epochs:
            return  # final_eval re-runs this callback at epoch+1 with the best model's metrics (see `completed`)
        emitter.emit("epoch", epoch=trainer.epoch + 1, epochs=trainer.epochs, metrics=epoch_metrics(trainer),
                     fitness=trainer.fitness)

    model.add_callback("on_train_start", on_train_start)
    model.add_callback("on_train_epoch_start", on_train_epoch_start)
    model.add_callback("on_train_batch_end", on_train_batch_end)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    model.train(**args, project=str(run_dir), name="train", exist_ok=True)
    trainer = model.trainer
    best, last = Path(trainer.best), Path(trainer.last)
    for path, kind in ((best, "best"), (last, "last")):
        if path.exists():
            emitter.emit("artifact", path=str(path), size=path.stat().st_size, sha256=file_sha256(path), kind=kind)
    result = {
        "best": str(best) if best.exists() else None,
        "last": str(last) if last.exists() else None,
        "run_dir": str(trainer.save_dir),
        "metrics": trainer.metrics,
        "epochs_done": trainer.epoch + 1,
        "epochs": trainer.epochs,
    }
    return ("cancelled" if cancel.requested else "completed"), result
