"""``yolodesk workers add … --kind ray``: the token kept as a secret (not in the DB), ``test`` asks the Jobs API through
the SSH tunnel, ``list`` shows the kind, a wrong token or a bad option is one line."""

from __future__ import annotations

import json
import stat
import sys

import pytest

from app.cli import main
from app.jobs.ray_options import RayOptionError, RayOptions, ray_token


def add_ray(name: str, sshd, port: int) -> list[str]:  # type: ignore[no-untyped-def]
    return ["workers", "add", name, "127.0.0.1", "--port", str(sshd.port), "--user", "root", "--key",
            str(sshd.client_key), "--python", sys.executable, "--kind", "ray", "--dashboard-port", str(port),
            "--ask-secret", "--trust", sshd.fingerprint()]


def test_cli_adds_a_ray_worker_tests_its_jobs_api_and_keeps_the_token_out_of_the_db(
        capsys, monkeypatch, home, sshd, ray_head):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": ray_head.token)  # the terminal prompt, not the logic
    code = main(add_ray("rc", sshd, ray_head.dashboard_port))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Ray (Jobs API through the SSH tunnel): Jobs API v" in out and "(token accepted)" in out
    assert "✓ rc is ready" in out
    assert main(["workers", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["rc", "ray"]
    assert main(["workers", "list", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["kind"] == "ray" and row["options"] == {"dashboard_port": ray_head.dashboard_port}
    assert row["auth"] != "password"  # the secret asked for was Ray's token, not an SSH password
    for db in home.rglob("*.db*"):
        assert ray_head.token.encode() not in db.read_bytes(), db
    kept = home / "worker-secrets" / "rc.ray-token"  # no OS keyring on this machine: the 0600 fallback
    assert ray_token(home, "rc") == ray_head.token and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert main(["workers", "remove", "rc"]) == 0
    assert not kept.exists() and ray_token(home, "rc") is None  # the token goes with the worker


def test_cli_ray_worker_with_a_wrong_token_says_so_in_one_line(capsys, monkeypatch, home, sshd, ray_head):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "not-the-token")
    code = main(add_ray("badtoken", sshd, ray_head.dashboard_port))
    err = capsys.readouterr().err
    assert code == 1 and "refused the token" in err and "--ask-secret" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("extra, says", [
    (["--kind", "ssh", "--dashboard-port", "8265"], "--dashboard-port only applies to --kind ray"),
    (["--kind", "ray", "--partition", "gpu"], "--partition only apply to --kind slurm"),
    (["--kind", "slurm", "--gpus", "2"], "--gpus only applies to --kind ray"),
    (["--kind", "ssh", "--cpus", "4"], "--cpus and --mem only apply to --kind slurm or ray"),
    (["--kind", "ray", "--gpus", "65"], "--gpus 65 is not a number of GPUs per job"),
    (["--kind", "ray", "--mem", "lots"], "is not a memory per job"),
])
def test_cli_refuses_bad_ray_options_in_one_line(capsys, home, extra, says):
    code = main(["workers", "add", "bad", "head.example", *extra])
    err = capsys.readouterr().err
    assert code != 0 and says in err and "Traceback" not in err
    assert main(["workers", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []  # nothing added


def test_cli_refuses_a_dashboard_port_that_is_no_port(capsys, home):
    with pytest.raises(SystemExit) as exited:
        main(["workers", "add", "bad", "head.example", "--kind", "ray", "--dashboard-port", "0"])
    assert exited.value.code == 2 and "invalid port_number value: '0'" in capsys.readouterr().err


def test_ray_options_default_and_check_the_port():
    assert RayOptions.from_json(None).dashboard_port == 8265
    assert RayOptions.from_json({"dashboard_port": "9000"}).to_json() == {"dashboard_port": 9000}
    with pytest.raises(RayOptionError, match="not a port"):
        RayOptions.from_json({"dashboard_port": 70000})



def test_cli_keeps_what_each_ray_job_asks_for(capsys, home):
    # the head is unreachable (port 1): added, its test fails, the options are kept as given
    code = main(["workers", "add", "rc", "127.0.0.1", "--port", "1", "--kind", "ray", "--gpus", "2", "--cpus", "8",
                 "--mem", "32g"])
    assert code == 1 and "Traceback" not in capsys.readouterr().err
    assert main(["workers", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["options"] == {"dashboard_port": 8265, "gpus": 2, "cpus": 8.0,
                                                                  "memory": "32G"}
    assert main(["workers", "list"]) == 0
    assert "2 GPUs per job" in capsys.readouterr().out  # what each job asks Ray for, not the head's own GPUs
