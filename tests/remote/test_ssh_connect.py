"""Connecting to a real sshd: key auth, host keys (unknown refused until trusted, changed refused), config."""

from __future__ import annotations

import os

import pytest

from app.jobs.ssh import HostKeyChanged, HostKeyUnknown, KnownHosts, SSHError, connect, resolve, run

USER = "root" if os.geteuid() == 0 else os.environ.get("USER")


def test_unknown_host_key_is_refused_until_trusted(sshd, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts", user_file=tmp_path / "none")
    ep = resolve("127.0.0.1", sshd.port, USER, str(sshd.client_key))
    with pytest.raises(HostKeyUnknown) as info:
        connect(ep, known)
    assert info.value.fingerprint == sshd.fingerprint()  # the form `ssh-keygen -lf` prints
    assert not (tmp_path / "known_hosts").exists()  # refusing recorded nothing
    with pytest.raises(HostKeyUnknown):
        connect(ep, known, trust="SHA256:" + "A" * 43)  # a wrong fingerprint trusts nothing
    client = connect(ep, known, trust=sshd.fingerprint())
    try:
        assert run(client, "echo $((6 * 7))")[:2] == (0, "42\n")
        assert client.get_transport().packetizer._Packetizer__keepalive_interval == 15  # keepalives on
    finally:
        client.close()
    client = connect(ep, known)  # remembered in the app's own known_hosts
    client.close()
    assert f"[127.0.0.1]:{sshd.port}" in (tmp_path / "known_hosts").read_text()


def test_changed_host_key_is_refused_and_never_replaced(own_sshd, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts", user_file=tmp_path / "none")
    ep = resolve("127.0.0.1", own_sshd.port, USER, str(own_sshd.client_key))
    connect(ep, known, trust=own_sshd.fingerprint()).close()
    before = (tmp_path / "known_hosts").read_text()
    old = own_sshd.fingerprint()
    own_sshd.new_host_key()
    with pytest.raises(HostKeyChanged) as info:
        connect(ep, known, trust=own_sshd.fingerprint())  # not even an explicit trust replaces a recorded key
    assert info.value.expected == old and info.value.fingerprint == own_sshd.fingerprint()
    assert "REFUSED" in str(info.value) and "ssh-keygen -R" in str(info.value)
    assert (tmp_path / "known_hosts").read_text() == before


def test_changed_key_in_the_users_known_hosts_is_refused_too(sshd, tmp_path):
    """A key in ~/.ssh/known_hosts counts: a different one presented is refused, not re-trusted in our file."""
    import paramiko

    user_file = tmp_path / "user_known_hosts"
    other = paramiko.ECDSAKey.generate()
    hk = paramiko.HostKeys()
    hk.add(f"[127.0.0.1]:{sshd.port}", "ssh-ed25519", paramiko.Ed25519Key.from_private_key_file(str(sshd.client_key)))
    hk.add(f"[127.0.0.1]:{sshd.port}", other.get_name(), other)
    hk.save(str(user_file))
    known = KnownHosts(tmp_path / "known_hosts", user_file=user_file)
    with pytest.raises(HostKeyChanged):
        connect(resolve("127.0.0.1", sshd.port, USER, str(sshd.client_key)), known, trust=sshd.fingerprint())


def test_ssh_config_alias_supplies_host_port_user_and_key(sshd, tmp_path, monkeypatch):
    cfg = tmp_path / "config"
    cfg.write_text(f"Host gpu-box\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {USER}\n"
                   f"  IdentityFile {sshd.client_key}\n")
    monkeypatch.setenv("YOLODESK_SSH_CONFIG", str(cfg))
    ep = resolve("gpu-box")
    assert (ep.hostname, ep.port, ep.user, ep.key_files) == ("127.0.0.1", sshd.port, USER, (str(sshd.client_key),))
    known = KnownHosts(tmp_path / "known_hosts", user_file=tmp_path / "none")
    connect(ep, known, trust=sshd.fingerprint()).close()


def test_wrong_key_and_closed_port_say_what_is_wrong(sshd, tmp_path):
    import subprocess

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    known = KnownHosts(tmp_path / "known_hosts", user_file=tmp_path / "none")
    with pytest.raises(SSHError, match="refused the login .*authorized_keys"):
        connect(resolve("127.0.0.1", sshd.port, USER, str(stranger)), known, trust=sshd.fingerprint())
    from tests.remote.sshd import free_port

    with pytest.raises(SSHError, match="cannot connect"):
        connect(resolve("127.0.0.1", free_port(), USER, str(stranger)), known)


def test_no_auto_add_policy_anywhere():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for folder in ("app", "remote_agent"):
        for py in (root / folder).rglob("*.py"):
            code = "\n".join(line for line in py.read_text().splitlines() if not line.strip().startswith(("#", '"', "refused")))
            assert "AutoAddPolicy(" not in code and "WarningPolicy(" not in code, py
