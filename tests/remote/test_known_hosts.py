"""known_hosts files as OpenSSH writes them (@revoked, @cert-authority, hashed names, junk) against a real sshd."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
import pytest

from app.jobs.ssh import HostKeyRevoked, KnownHosts, connect, resolve, run

USER = "root" if os.geteuid() == 0 else os.environ.get("USER")


def _host_line(sshd) -> str:
    """``keytype base64`` of the server's host key."""
    return " ".join(Path(str(sshd.host_key) + ".pub").read_text().split()[:2])


OTHER = paramiko.ECDSAKey.generate()  # a key that is not the server's


def _other_key_line() -> str:
    return f"{OTHER.get_name()} {OTHER.get_base64()}"


def _server_key(sshd) -> paramiko.PKey:
    return paramiko.Ed25519Key.from_private_key_file(str(sshd.host_key))


def _endpoint(sshd):
    return resolve("127.0.0.1", sshd.port, USER, str(sshd.client_key))


@pytest.mark.parametrize("revoked_for", ["*", "some-other-host.example"])
def test_a_revoked_host_key_is_refused_even_when_listed_and_trusted(sshd, tmp_path, revoked_for):
    user_file = tmp_path / "known_hosts"
    name = f"[127.0.0.1]:{sshd.port}"
    user_file.write_text(f"# company file\n{name} {_host_line(sshd)}\n@revoked {revoked_for} {_host_line(sshd)}\n")
    app_file = tmp_path / "app_known_hosts"
    known = KnownHosts(app_file, user_file=user_file)
    with pytest.raises(HostKeyRevoked) as info:
        connect(_endpoint(sshd), known, trust=sshd.fingerprint())  # neither the plain line nor --trust wins
    assert f"the worker's host key is revoked in {user_file}" in str(info.value)
    assert info.value.fingerprint == sshd.fingerprint()
    assert not app_file.exists()  # nothing was trusted on the way
    with pytest.raises(HostKeyRevoked):
        known.trust(name, _server_key(sshd))


def test_a_key_revoked_in_the_apps_own_file_is_refused_too(sshd, tmp_path):
    app_file = tmp_path / "app_known_hosts"
    known = KnownHosts(app_file, user_file=tmp_path / "none")
    connect(_endpoint(sshd), known, trust=sshd.fingerprint()).close()  # trusted first
    app_file.write_text(app_file.read_text() + f"@revoked * {_host_line(sshd)}\n")
    with pytest.raises(HostKeyRevoked, match="revoked in " + str(app_file)):
        connect(_endpoint(sshd), known)


def test_ca_lines_and_malformed_lines_are_skipped_and_the_plain_key_still_works(sshd, tmp_path):
    name = f"[127.0.0.1]:{sshd.port}"
    hashed = paramiko.HostKeys.hash_host(name)
    user_file = tmp_path / "known_hosts"
    user_file.write_text("\n".join([
        f"@cert-authority *.corp.example,{name} {_other_key_line()}",
        f"@cert-authority * {_host_line(sshd)}",
        "@revoked",  # a marker and nothing else
        f"@bogus-marker {name} {_host_line(sshd)}",  # a marker OpenSSH does not know: the line is not for us
        "just-one-field",
        "two fields",
        f"{name} ssh-ed25519 !!!not-base64!!!",
        f"{name} ssh-unknown-type AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
        f"{name} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA",  # base64 of a truncated key
        "\x00\xff binary junk \x1b[2J",
        f"@revoked other.example {_other_key_line()}",  # another key revoked: ours is not
        f"{hashed} {_host_line(sshd)}",  # the trusted key, under a hashed name as HashKnownHosts writes it
        "",
    ]))
    known = KnownHosts(tmp_path / "app_known_hosts", user_file=user_file)
    client = connect(_endpoint(sshd), known)  # no --trust: the hashed plain line is the trust
    try:
        assert run(client, "echo ok")[:2] == (0, "ok\n")
    finally:
        client.close()
    assert not (tmp_path / "app_known_hosts").exists()  # already known: nothing recorded
    parsed = known.sources()[1]
    assert len(parsed.lines) == 1 and len(parsed.revoked) == 1 and parsed.skipped == 10


def test_trusting_and_forgetting_keep_the_files_other_lines(sshd, tmp_path):
    name = f"[127.0.0.1]:{sshd.port}"
    app_file = tmp_path / "app_known_hosts"
    before = f"@revoked {name} {_other_key_line()}\n# kept\n"  # an old key of this host, revoked
    app_file.write_text(before)
    known = KnownHosts(app_file, user_file=tmp_path / "none")
    connect(_endpoint(sshd), known, trust=sshd.fingerprint()).close()
    text = app_file.read_text()
    assert text.startswith(before) and text[len(before):].startswith(f"{name} ssh-ed25519 ")
    assert known.forget(name)
    assert app_file.read_text() == before  # the revocation stays: forgetting a host never un-revokes a key


def test_cli_workers_test_says_revoked_in_one_line(box, sshd, tmp_path, monkeypatch, capsys):
    from app.cli import main

    ssh_dir = tmp_path / "fake-home" / ".ssh"
    ssh_dir.mkdir(parents=True)
    (ssh_dir / "known_hosts").write_text(f"@cert-authority * {_other_key_line()}\n@revoked * {_host_line(sshd)}\n")
    monkeypatch.setenv("HOME", str(tmp_path / "fake-home"))  # ~/.ssh/known_hosts is the user's file
    assert main(["workers", "test", "box"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"the worker's host key is revoked in {ssh_dir / 'known_hosts'}" in err
