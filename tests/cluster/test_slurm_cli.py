"""``yolodesk workers add … --kind slurm``: the options stored, ``test`` asks sinfo there, ``list`` shows the kind."""

from __future__ import annotations

import json
import sys

import pytest

from app.cli import main
from app.jobs.slurm_batch import (
    SlurmOptionError, SlurmOptions, batch_script, parse_env, parse_sacct, parse_scontrol, parse_squeue,
)


def test_cli_adds_a_slurm_worker_tests_it_with_sinfo_and_lists_its_kind(capsys, home, sshd, cluster):
    args = ["workers", "add", "hpc", "127.0.0.1", "--port", str(sshd.port), "--user", "root", "--key",
            str(sshd.client_key), "--python", sys.executable, "--kind", "slurm", "--partition", "debug",
            "--time", "00:10:00", "--gres", "gpu:1", "--env", f"SLURM_CONF={cluster.conf}", "--trust", sshd.fingerprint(),
            "--max-submissions", "3"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Slurm (sinfo): debug* up 1 idle" in out and "✓ hpc is ready" in out
    assert main(["workers", "list"]) == 0
    listing = capsys.readouterr().out
    assert "KIND" in listing.splitlines()[0] and listing.splitlines()[1].split()[:2] == ["hpc", "slurm"]
    assert main(["workers", "list", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["kind"] == "slurm" and row["options"] == {
        "partition": "debug", "gres": "gpu:1", "time": "00:10:00", "env": {"SLURM_CONF": str(cluster.conf)},
        "max_submissions": 3}


def test_cli_slurm_worker_without_slurm_conf_says_so(capsys, home, sshd, cluster):
    """No --env SLURM_CONF: sinfo there finds no config (Debian's has none); the verdict says what to give."""
    code = main(["workers", "add", "nohpc", "127.0.0.1", "--port", str(sshd.port), "--user", "root", "--key",
                 str(sshd.client_key), "--python", sys.executable, "--kind", "slurm", "--trust", sshd.fingerprint()])
    err = capsys.readouterr().err
    assert code == 1 and "sinfo failed on nohpc" in err and "--env SLURM_CONF=" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("extra, says", [
    (["--kind", "slurm", "--time", "four hours"], "--time 'four hours' is not a Slurm time"),
    (["--kind", "slurm", "--env", "SLURM_CONF"], "give it as NAME=VALUE"),
    (["--kind", "slurm", "--partition", "gpu;rm -rf"], "is not a Slurm partition"),
    (["--gres", "gpu:1"], "--gres only apply to --kind slurm"),
    (["--max-submissions", "3"], "--max-submissions only applies to --kind slurm or ray"),
    (["--kind", "slurm", "--max-submissions", "0"], "--max-submissions 0 must be at least 1"),
])
def test_cli_refuses_bad_slurm_options_in_one_line(capsys, home, extra, says):
    code = main(["workers", "add", "bad", "login.example", *extra])
    err = capsys.readouterr().err
    assert code != 0 and says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["workers", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []  # nothing added


def test_batch_script_carries_the_jobs_resources_over_the_workers_defaults():
    defaults = SlurmOptions.from_json({"partition": "gpu", "account": "lab", "gres": "gpu:1", "time": "04:00:00",
                                       "env": parse_env(["SLURM_CONF=/etc/slurm/x.conf"])})
    script = batch_script("abc", "/home/u/.yolodesk-agent/jobs/abc", "env A=1 python -m remote_agent run spec.json",
                          defaults.merged({"cpus": 4, "mem": "8G", "gres": "gpu:2"}))
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash" and "#SBATCH --job-name=yolodesk-abc" in lines
    for want in ("--cpus-per-task=4", "--mem=8G", "--gres=gpu:2", "--partition=gpu", "--account=lab",
                 "--time=04:00:00", "--chdir=/home/u/.yolodesk-agent/jobs/abc"):
        assert f"#SBATCH {want}" in lines
    assert lines[-1].startswith("exec env A=1 python -m remote_agent run spec.json >> ")
    with pytest.raises(SlurmOptionError, match="not a Slurm gres"):
        SlurmOptions.from_json({"gres": "gpu 1; reboot"})
    assert parse_squeue("7", "PENDING|Priority\n") is not None and parse_squeue("7", "").__class__ is type(None)
    state = parse_scontrol("7", "JobId=7 JobName=x\n   JobState=TIMEOUT Reason=TimeLimit Dependency=(null)\n")
    assert state is not None and (state.state, state.reason, state.live) == ("TIMEOUT", "TimeLimit", False)
    assert parse_squeue("7", "PENDING|Resources").waiting == "Waiting in Slurm: Resources"
    # sacct's final state where accounting runs (``-n -P -X -o State,Reason``): "CANCELLED by UID" is CANCELLED
    assert parse_sacct("7", "CANCELLED by 0|None\n") == type(state)("7", "CANCELLED", "None")
    assert parse_sacct("7", "") is None
