"""Trust, one mechanism for every job: the sha256 digests a job's agent may load plainly, and "trust and retry".

The user trusts a file's bytes (its sha256, in the library's ``trusted_checkpoints`` table): from the Predict
tab's prompt, a tab's "Trust this file and retry", or ``--trust`` on the command line. A job's spec carries
``trusted_sha256`` for its input weights; the agent's loading gate loads those bytes, and only those, plainly.
"""

from __future__ import annotations

from pathlib import Path

from app.jobs.store import JobRecord
from app.library.checkpoint import sha256_file
from app.library.repository import Library, LibraryError

REFUSAL_CODES = ("untrusted_checkpoint", "executable_code")  # the gate's refusals a user may override


def trusted_for(lib: Library, weights: str | Path | None) -> list[str]:
    """The sha256 of the ``.pt`` at ``weights`` if the user trusted it, else nothing."""
    if not weights or not str(weights).endswith(".pt"):
        return []
    try:
        sha256 = sha256_file(weights)
    except OSError:
        return []  # not readable here: the agent's gate says so
    return [sha256] if lib.is_trusted(sha256) else []


def refused_by_gate(job: JobRecord) -> bool:
    """Whether the job failed because the loading gate refused its weights (so trusting them could help)."""
    return job.status == "Failed" and (job.error or "").startswith(tuple(f"{c}:" for c in REFUSAL_CODES))


def trust_refused_weights(lib: Library, job: JobRecord) -> str:
    """Record the bytes the gate refused for ``job`` as trusted; returns their sha256."""
    result = job.result or {}
    sha256 = result.get("sha256")
    if not refused_by_gate(job) or not isinstance(sha256, str):
        raise LibraryError("this job was not refused by the loading gate: there is nothing to trust")
    lib.trust_checkpoint(sha256, str(result.get("file") or ""))
    return sha256
