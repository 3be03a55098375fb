"""The Slurm transport: the SSH worker's agent and events, started by ``sbatch`` on a cluster's login node.

A Slurm worker is the SSH alias of a login node. ``start`` uploads the job's inputs exactly as the SSH
transport does (it is composed of one: same link, same checked transfers, same job folder under
``~/.yolodesk-agent/jobs/<id>`` — on a cluster that is the shared filesystem every node sees), writes a
batch script (:func:`app.jobs.slurm_batch.batch_script`) beside the spec and submits it with
``sbatch --parsable``. The Slurm job id goes to ``slurm.id`` there (a retried start submits nothing twice),
to ``remote.json`` here (re-attach after an app restart reads it) and, with Slurm's state and reason, to the
job row's ``result["slurm"]`` while the job is active (what the Jobs panel and the Train tab show:
"Waiting in Slurm: Resources"). The SSH transport's mirror copies the events file; only its liveness
question is asked of Slurm (``squeue``, then ``scontrol show job`` once squeue forgot the job). Cancel is
``scancel`` (Slurm sends SIGTERM, then SIGKILL after its KillWait). The job's device is a count of GPUs
there (:func:`app.jobs.cluster_gpus.cluster_ask`): ``device=0,1`` asks ``--gres gpu:2`` (of the worker's
gres type) and runs as ``0,1`` on the node; ``device=cpu`` asks for no GPU whatever the worker's default.
"""

from __future__ import annotations

import json
import posixpath
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update

from app.jobs.slurm_batch import (
    SlurmOptions, SlurmState, batch_script, env_prefix, parse_sacct, parse_sbatch, parse_scontrol, parse_squeue,
    slurm_job,
)
from app.jobs.ssh import SSHError
from app.jobs.ssh_link import RemoteCommandError
from app.jobs.queued_transport import QueuedTransport
from app.jobs.ssh_transport import REMOTE_FILE, Mirror, write_record
from app.jobs.transport import AgentHandle
from app.jobs.workers import WorkerRecord, WorkerStore, agent_command, sftp_makedirs, sftp_write
from app.library.orm import Job

# final states in which Slurm, not the agent, ended the job (COMPLETING says nothing yet: no verdict from it)
ENDED_BY_SLURM = frozenset({"FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"})
CONTROLLER_GIVE_UP_S = 600.0  # how long an unanswering slurmctld is waited for before the job is given up


@dataclass
class SlurmMirror(Mirror):
    """The SSH mirror whose "does the agent still run?" is Slurm's answer for the job."""

    query: Callable[[], SlurmState] | None = None
    job_id: str = ""  # ours
    slurm_id: str = ""  # Slurm's

    def agent_alive(self) -> bool:
        assert self.query is not None
        return self.query().live


class SlurmTransport(QueuedTransport):
    """Runs the agent as a Slurm batch job; implements :class:`app.jobs.transport.Transport`."""

    def __init__(self, store: WorkerStore, worker: WorkerRecord, give_up_s: float = 1800.0,
                 on_state: Callable[[str], None] | None = None) -> None:
        super().__init__(store, worker, give_up_s, threading.Lock())
        self.options = SlurmOptions.from_json(worker.options)
        self.on_state = on_state  # told the job id when Slurm's state of it changed (the manager notifies views)
        self._mirrors: dict[str, SlurmMirror] = {}
        self._states: dict[str, SlurmState] = {}
        self._unanswered_since: dict[str, float] = {}
        self.accounting: bool | None = None  # whether sacct answers here (None: not asked yet)

    # ------------------------------------------------------------------ Slurm commands
    def slurm(self, command: str, timeout: float = 60.0) -> tuple[int, str, str]:
        """Run a Slurm command on the login node with the worker's ``--env`` variables (SLURM_CONF…) set."""
        return self.link.shell(env_prefix(self.options) + command, timeout=timeout)

    def query(self, job_id: str) -> SlurmState:
        """Slurm's state of the job: squeue while it lists the job, then sacct where accounting runs (the final
        state, kept past MinJobAge), else scontrol; UNKNOWN once all of them forgot it."""
        code, out, err = self.slurm(f"squeue -h -j {job_id} -o '%T|%r'")
        found = parse_squeue(job_id, out) if code == 0 else None
        if found is None and self.accounting is not False:
            code1, out1, err1 = self.slurm(f"sacct -n -P -X -j {job_id} -o State,Reason")
            self.accounting = code1 == 0 and "disabled" not in err1  # "Slurm accounting storage is disabled"
            found = parse_sacct(job_id, out1) if self.accounting else None
        if found is None:
            code2, out2, err2 = self.slurm(f"scontrol show job {job_id}")
            found = parse_scontrol(job_id, out2) if code2 == 0 else None
            if found is None and "Invalid job id" in (err + err2 + out2):
                found = SlurmState(job_id, "UNKNOWN")
            if found is None:  # the controller did not answer: the job may well run on; wait for it a while
                first = self._unanswered_since.setdefault(job_id, time.monotonic())
                if time.monotonic() - first > CONTROLLER_GIVE_UP_S:
                    raise RemoteCommandError(f"Slurm on {self.name} has not answered for {CONTROLLER_GIVE_UP_S:.0f} s: "
                                             f"{(err2 or err).strip()[-300:]}")
                return self._states.get(job_id) or SlurmState(job_id, "PENDING", "the controller does not answer")
        self._unanswered_since.pop(job_id, None)
        self._remember(job_id, found)
        return found

    def _remember(self, slurm_id: str, state: SlurmState) -> None:
        """Keep the state; when it changed, write it on the job row (while active) and tell the manager."""
        before = self._states.get(slurm_id)
        self._states[slurm_id] = state
        if before == state:
            return
        job_id = self._job_of.get(slurm_id)
        if job_id is None:
            return
        with self.store.lib.write() as s:  # only an active row: a finished job's result is its outcome
            s.execute(update(Job).where(Job.id == job_id, Job.status.in_(("Starting", "Running")))
                      .values(result={"slurm": state.to_json()}))
        if self.on_state is not None:
            self.on_state(job_id)

    @property
    def _job_of(self) -> dict[str, str]:
        return {m.slurm_id: m.job_id for m in list(self._mirrors.values())}

    # ------------------------------------------------------------------ Transport
    def _start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        job_id = str(spec["id"])
        try:
            options, spec = slurm_job(spec, self.options)
        except ValueError as e:
            raise RemoteCommandError(str(e)) from e

        def go() -> str:
            self.link.client()
            assert self.link.layout is not None
            job_dir = self.link.layout.job(job_id)
            sftp = self.link.sftp()
            sftp_makedirs(sftp, job_dir)
            remote = self.ssh.remote_spec(spec, job_dir)
            sftp_write(sftp, posixpath.join(job_dir, "spec.json"), json.dumps(remote, indent=2).encode())
            (run_dir / "spec.remote.json").write_text(json.dumps(remote, indent=2))
            run = agent_command(self.worker, self.link.layout, "run", posixpath.join(job_dir, "spec.json"))
            cd, _, agent_run = run.partition(" && ")  # the script's cwd is the job folder (#SBATCH --chdir)
            assert cd.startswith("cd "), run
            script = batch_script(job_id, job_dir, agent_run, options)
            sftp_write(sftp, posixpath.join(job_dir, "job.sbatch"), script.encode())
            q = shlex.quote(job_dir)
            # submitted already (a retry after a drop mid-start)? then slurm.id says so: never submit twice
            code, out, err = self.link.shell(
                f"cd {q} && if [ ! -s slurm.id ]; then {env_prefix(options)}sbatch --parsable job.sbatch > slurm.id.tmp"
                " && mv slurm.id.tmp slurm.id; fi && cat slurm.id")
            if code != 0:
                raise RemoteCommandError(f"sbatch refused the job on {self.name}: {(err or out).strip()[-500:]}")
            return job_dir + "\n" + parse_sbatch(out)

        job_dir, slurm_id = self.link.retrying(go, min(self.give_up_s, 120.0)).split("\n")
        write_record(run_dir, {"worker": self.name, "remote_dir": job_dir, "pid": int(slurm_id), "slurm_job": slurm_id})
        handle = self._handle(run_dir, job_dir, slurm_id)
        self._follow(handle, job_id, slurm_id)
        return handle

    def _handle(self, run_dir: Path, job_dir: str, slurm_id: str) -> AgentHandle:
        # pid is the Slurm job id (the manager stores it in jobs.pid); nothing here signals it as a process
        return AgentHandle(int(slurm_id), int(slurm_id), 0.0, run_dir / "events.jsonl", remote_dir=job_dir)

    def handle_for(self, run_dir: Path, pid: int | None, started: float | None) -> AgentHandle:
        """Re-attach by the Slurm job id recorded in ``remote.json`` (after an app restart too)."""
        info = json.loads((run_dir / REMOTE_FILE).read_text())
        slurm_id = str(info["slurm_job"])
        handle = self._handle(run_dir, str(info["remote_dir"]), slurm_id)
        self._follow(handle, run_dir.name, slurm_id)
        return handle

    def _follow(self, handle: AgentHandle, job_id: str, slurm_id: str) -> None:
        # its first round asks Slurm at once: the row shows PENDING (and why) within a poll
        self._follow_with(handle, lambda key: SlurmMirror(
            self.link, key, handle.events_path, self.give_up_s, query=lambda: self.query(slurm_id),
            job_id=job_id, slurm_id=slurm_id))

    def state(self, handle: AgentHandle) -> SlurmState | None:
        """The last state Slurm gave for the job (None before the first answer)."""
        return self._states.get(str(handle.pid))

    def explain(self, handle: AgentHandle) -> str | None:
        m = self._mirrors.get(str(handle.remote_dir))
        if m is not None and m.failure:
            return m.failure
        st = self.state(handle)
        asked = (handle.events_path.parent / "cancel-requested").exists()  # the manager's marker: a cancel it sent
        ended_by_slurm = ENDED_BY_SLURM | ({"CANCELLED"} if not asked else set())
        if st is not None and st.state in ended_by_slurm:
            why = f" ({st.reason})" if st.reason and st.reason != "None" else ""
            try:  # what the agent (or the batch script) printed before Slurm ended it
                tail = self.agent_err(handle)[-400:].strip()
            except (SSHError, OSError):
                tail = ""
            return f"Slurm ended job {st.job_id} on {self.name} as {st.state}{why}" + (f": {tail}" if tail else "")
        return None

    def cancel(self, handle: AgentHandle, grace: float = 20.0) -> None:
        """``scancel``: Slurm sends SIGTERM (the agent stops after the batch), SIGKILL after its KillWait."""
        def go() -> None:
            code, out, err = self.slurm(f"scancel {int(handle.pid)}")
            if code != 0:
                raise RemoteCommandError(f"scancel {handle.pid} failed on {self.name}: {(err or out).strip()[-300:]}")

        self.link.retrying(go, 60.0)

    def agent_err(self, handle: AgentHandle) -> str:
        text = self.ssh.agent_err(handle)
        if text.strip():
            return text
        code, out, _ = self.link.shell(f"tail -c 2000 {shlex.quote(posixpath.join(str(handle.remote_dir), 'slurm.out'))}")
        return out if code == 0 else ""

def check_cluster(store: WorkerStore, worker: WorkerRecord) -> str:
    """``sinfo`` on the login node (with the worker's env): its partitions and node states, or SSHError saying why."""
    transport = SlurmTransport(store, worker)
    try:
        code, out, err = transport.link.retrying(
            lambda: transport.slurm("sinfo -h -o '%P %a %D %T'", timeout=30), 20.0)
    finally:
        transport.close()
    if code != 0:
        lines = (err or out).strip().splitlines() or [f"exit {code}"]
        no_config = "slurm.conf" in err or "configuration source" in err
        hint = " — give the cluster's config with --env SLURM_CONF=/path/slurm.conf" if no_config else ""
        raise SSHError(f"sinfo failed on {worker.name} (exit {code}): {lines[-1][-300:]}{hint}")
    return out.strip()
