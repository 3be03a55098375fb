"""Reading OpenSSH ``known_hosts`` files line by line, as OpenSSH does: markers, hashed names, patterns.

paramiko's own loader ends in a traceback on a ``@revoked`` or ``@cert-authority`` line (it takes the
marker for a host name and the key type for base64), and it knows neither marker. Here every line is
read on its own: a bad line is skipped, a ``@revoked`` key is collected so that it is refused for
every host, a ``@cert-authority`` line is skipped (we do not do certificate host authentication).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

log = logging.getLogger(__name__)

REVOKED, CERT_AUTHORITY = "@revoked", "@cert-authority"


@dataclass(frozen=True)
class HostLine:
    """One plain ``known_hosts`` line: the host patterns it names and its key."""

    patterns: tuple[str, ...]
    key: paramiko.PKey

    def names(self, host: str) -> bool:
        """Whether this line is for ``host`` (``[name]:port`` form for a port other than 22)."""
        return names_host(self.patterns, host)


@dataclass
class KnownHostsFile:
    """What one file says: keys trusted for host patterns, and keys revoked whatever the host."""

    path: Path
    lines: list[HostLine] = field(default_factory=list)
    revoked: list[paramiko.PKey] = field(default_factory=list)
    skipped: int = 0  # malformed lines and lines we do not use (certificate authorities)

    def keys_for(self, host: str) -> list[paramiko.PKey]:
        """Every key a plain line records for ``host``, in file order."""
        return [line.key for line in self.lines if line.names(host)]

    def is_revoked(self, key: paramiko.PKey) -> bool:
        """Whether ``key`` is listed under ``@revoked`` (OpenSSH revokes the key itself, for any host)."""
        blob = key.asbytes()
        return any(r.asbytes() == blob for r in self.revoked)


def _pattern_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("|1|"):  # hashed: HMAC-SHA1 of the host name under the line's salt
        try:
            return hmac.compare_digest(paramiko.HostKeys.hash_host(host, pattern), pattern)
        except (binascii.Error, ValueError, IndexError, TypeError):
            return False
    if "*" in pattern or "?" in pattern:
        rx = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
        return re.fullmatch(rx, host.lower()) is not None
    return pattern.lower() == host.lower()


def names_host(patterns: tuple[str, ...], host: str) -> bool:
    """OpenSSH's rule: some pattern matches and no negated (``!``) pattern does."""
    hit = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _pattern_matches(pattern[1:] if negated else pattern, host):
            if negated:
                return False
            hit = True
    return hit


def _key(key_type: str, blob: str) -> paramiko.PKey:
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(blob.encode("ascii"), validate=True))


def parse_line(line: str) -> tuple[str | None, tuple[str, ...], paramiko.PKey]:
    """(marker or None, host patterns, key) of one line; raises ValueError for a line that is not one."""
    fields = line.split()
    marker = None
    if fields and fields[0].startswith("@"):
        marker, fields = fields[0], fields[1:]
        if marker not in (REVOKED, CERT_AUTHORITY):
            raise ValueError(f"unknown marker {marker[:40]!r}")
    if len(fields) < 3:
        raise ValueError("fewer than three fields")
    try:
        key = _key(fields[1], fields[2])
    except (binascii.Error, ValueError, UnicodeEncodeError, paramiko.SSHException) as e:
        raise ValueError(f"unreadable {fields[1][:40]!r} key") from e
    except Exception as e:  # noqa: BLE001 — key parsers raise what they like on hostile bytes; the line is bad
        raise ValueError(f"unreadable key ({type(e).__name__})") from e
    return marker, tuple(p for p in fields[0].split(",") if p), key


def read_known_hosts(path: Path) -> KnownHostsFile:
    """Every usable line of ``path``; a missing or unreadable file gives an empty result (it adds no trust)."""
    result = KnownHostsFile(Path(path))
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return result
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            marker, patterns, key = parse_line(line)
        except ValueError as e:
            log.debug("%s line %d skipped: %s", path, number, e)
            result.skipped += 1
            continue
        if marker == REVOKED:
            result.revoked.append(key)
        elif marker == CERT_AUTHORITY:
            log.debug("%s line %d skipped: a @cert-authority line (certificate host keys are not used here; "
                      "the host's own key must be listed or trusted)", path, number)
            result.skipped += 1
        else:
            result.lines.append(HostLine(patterns, key))
    return result
