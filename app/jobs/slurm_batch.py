"""What a Slurm worker's job is made of, as text: its options, the batch script, and Slurm's answers parsed.

Kept apart from the transport (which talks SSH) so that each piece reads, and is tested, on its own:
:func:`batch_script` is what ``sbatch`` gets; :func:`parse_squeue` and :func:`parse_scontrol` turn what
``squeue -h -j ID -o %T|%r`` and ``scontrol show job ID`` print into a :class:`SlurmState`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any

from app.jobs.cluster_gpus import cluster_ask, gres_count, gres_with

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TIME_RE = re.compile(r"^(\d+-)?\d{1,3}(:\d{2}){0,2}$")  # Slurm's --time forms: MM, HH:MM:SS, D-HH:MM(:SS)
GRES_RE = re.compile(r"^[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)*(,[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)*)*$")
WORD_RE = re.compile(r"^[A-Za-z0-9_.,@+-]+$")  # partition and account names: nothing a shell would read
MEM_RE = re.compile(r"^\d+[KMGT]?$")

# Slurm states in which the job may still write events (its agent is, or will be, running). Not COMPLETING:
# the batch step (the agent, exec'd) has exited then and Slurm only cleans up, which can take a while
LIVE_STATES = frozenset({"PENDING", "CONFIGURING", "RUNNING", "SUSPENDED", "REQUEUED", "RESIZING",
                         "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "STOPPED"})
JOB_NAME_PREFIX = "yolodesk-"


class SlurmOptionError(ValueError):
    """A Slurm worker option that sbatch would refuse (or that could break the generated script)."""


@dataclass(frozen=True)
class SlurmOptions:
    """A Slurm worker's defaults for its jobs (``workers.options``); a job's ``resources`` override them."""

    partition: str | None = None
    account: str | None = None
    gres: str | None = None  # e.g. gpu:1
    time: str | None = None  # e.g. 04:00:00
    cpus: int | None = None  # --cpus-per-task
    mem: str | None = None  # e.g. 8G
    env: dict[str, str] = field(default_factory=dict)  # exported before every Slurm command (SLURM_CONF=…)

    def to_json(self) -> dict[str, Any]:
        """The ``workers.options`` JSON (empty fields left out)."""
        out: dict[str, Any] = {k: v for k, v in self.__dict__.items() if v not in (None, {}, "")}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SlurmOptions:
        """From ``workers.options`` (or a job's ``resources``), checked."""
        d = dict(data or {})
        opts = cls(partition=d.get("partition") or None, account=d.get("account") or None,
                   gres=d.get("gres") or None, time=d.get("time") or None,
                   cpus=int(d["cpus"]) if d.get("cpus") not in (None, "") else None, mem=d.get("mem") or None,
                   env={str(k): str(v) for k, v in (d.get("env") or {}).items()})
        opts.check()
        return opts

    def check(self) -> None:
        """Raise :class:`SlurmOptionError` naming the first value sbatch would refuse."""
        for name, value, pattern, example in (("partition", self.partition, WORD_RE, "gpu"),
                                              ("account", self.account, WORD_RE, "lab-a"),
                                              ("gres", self.gres, GRES_RE, "gpu:1"),
                                              ("time", self.time, TIME_RE, "04:00:00"),
                                              ("mem", self.mem, MEM_RE, "8G")):
            if value is not None and not pattern.match(value):
                raise SlurmOptionError(f"--{name} {value!r} is not a Slurm {name} (e.g. {example})")
        if self.cpus is not None and self.cpus < 1:
            raise SlurmOptionError(f"--cpus {self.cpus} must be at least 1")
        for key in self.env:
            if not ENV_NAME_RE.match(key):
                raise SlurmOptionError(f"--env {key}=…: {key!r} is not an environment variable name")

    def merged(self, resources: dict[str, Any] | None) -> SlurmOptions:
        """These defaults with what one job asks for (its spec's ``resources``) put over them."""
        if not resources:
            return self
        over = SlurmOptions.from_json(resources)
        return SlurmOptions(**{k: (getattr(over, k) or getattr(self, k)) for k in self.__dict__})


def slurm_job(spec: dict[str, Any], defaults: SlurmOptions) -> tuple[SlurmOptions, dict[str, Any]]:
    """The job's sbatch options (the worker's defaults, its own resources, its GPUs as a gres count) and its spec
    with the device it has on the node (:func:`app.jobs.cluster_gpus.cluster_ask`); ValueError for a bad device."""
    options = defaults.merged(spec.get("resources"))
    ask = cluster_ask(spec, gres_count(options.gres))
    options = replace(options, gres=gres_with(options.gres, ask.gpus))
    if ask.device is not None:
        spec = {**spec, "args": {**(spec.get("args") or {}), "device": ask.device}}
    return options, spec


def parse_env(items: list[str] | None) -> dict[str, str]:
    """``["K=V", …]`` (the CLI's repeated ``--env``) as a dict; a clear error for an item without ``=``."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not ENV_NAME_RE.match(key):
            raise SlurmOptionError(f"--env {item!r}: give it as NAME=VALUE (e.g. SLURM_CONF=/etc/slurm/slurm.conf)")
        out[key] = value
    return out


def env_prefix(options: SlurmOptions) -> str:
    """``env K=V … `` to put before a Slurm command on the login node ("" without variables)."""
    if not options.env:
        return ""
    return "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(options.env.items())) + " "


def batch_script(job_id: str, job_dir: str, agent_run: str, options: SlurmOptions) -> str:
    """The script ``sbatch`` runs: the job's resources as ``#SBATCH`` lines, then the SSH worker's agent command
    with stdout appended to the job's events file on the shared filesystem (which the app mirrors)."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name={JOB_NAME_PREFIX}{job_id}",
             f"#SBATCH --output={job_dir}/slurm.out", f"#SBATCH --chdir={job_dir}", "#SBATCH --ntasks=1",
             f"#SBATCH --cpus-per-task={options.cpus or 1}"]
    for flag, value in (("mem", options.mem), ("gres", options.gres), ("partition", options.partition),
                        ("account", options.account), ("time", options.time)):
        if value:
            lines.append(f"#SBATCH --{flag}={value}")
    # exec: the agent is the batch step itself, so scancel's SIGTERM reaches it (it stops after the batch)
    lines += ["export PYTHONUNBUFFERED=1",
              f"exec {agent_run} >> {shlex.quote(job_dir + '/events.jsonl')} 2>> {shlex.quote(job_dir + '/agent.err')}",
              ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class SlurmState:
    """Where Slurm has a job: its state (PENDING, RUNNING, COMPLETED, CANCELLED…) and, when waiting, why."""

    job_id: str
    state: str  # "UNKNOWN" when Slurm no longer knows the job
    reason: str | None = None

    @property
    def live(self) -> bool:
        """Whether the job may still write events."""
        return self.state in LIVE_STATES

    @property
    def waiting(self) -> str | None:
        """``"Waiting in Slurm: Resources"`` for a pending job, else None."""
        if self.state != "PENDING":
            return None
        return f"Waiting in Slurm: {self.reason}" if self.reason and self.reason != "None" else "Waiting in Slurm"

    def to_json(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "state": self.state, "reason": self.reason}


def parse_squeue(job_id: str, text: str) -> SlurmState | None:
    """``squeue -h -j ID -o %T|%r`` output; None when squeue no longer lists the job."""
    for line in text.splitlines():
        state, _, reason = line.strip().partition("|")
        if state:
            return SlurmState(job_id, state.strip().upper(), reason.strip() or None)
    return None


def parse_scontrol(job_id: str, text: str) -> SlurmState | None:
    """``scontrol show job ID`` output (JobState=… Reason=…); None when it names no state."""
    state = re.search(r"\bJobState=(\S+)", text)
    if state is None:
        return None
    reason = re.search(r"\bReason=(\S+)", text)
    return SlurmState(job_id, state.group(1).upper(), reason.group(1) if reason else None)


def parse_sacct(job_id: str, text: str) -> SlurmState | None:
    """``sacct -n -P -X -j ID -o State,Reason`` output (``CANCELLED by 0|None``); None when accounting has no record."""
    for line in text.splitlines():
        state, _, reason = line.strip().partition("|")
        if state.split():
            return SlurmState(job_id, state.split()[0].upper(), reason.strip() or None)
    return None


def parse_sbatch(text: str) -> str:
    """The job id from ``sbatch --parsable`` (``123`` or ``123;cluster``)."""
    first = text.strip().splitlines()[-1] if text.strip() else ""
    job_id = first.split(";")[0].strip()
    if not job_id.isdigit():
        raise ValueError(f"sbatch did not print a job id: {text.strip()[-300:]!r}")
    return job_id


def waiting_text(result: dict[str, Any] | None) -> str | None:
    """What a job row's ``result`` says about a Slurm wait (the transport writes it while the job is queued)."""
    slurm = (result or {}).get("slurm")
    if not isinstance(slurm, dict):
        return None
    return SlurmState(str(slurm.get("job_id")), str(slurm.get("state")), slurm.get("reason")).waiting
