"""An endpoint's /metrics text read into numbers, and what happened between two readings (the live charts' points).

The server counts since it started; the charts want the last interval: requests/s, the share of refused or failed
requests, latency quantiles of the requests timed in that interval only, CPU % and resident memory.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from typing import Any

REQUESTS = "yolodesk_endpoint_requests_total"
LATENCY_BUCKET = "yolodesk_endpoint_predict_seconds_bucket"
CPU_SECONDS = "process_cpu_seconds_total"
RSS_BYTES = "process_resident_memory_bytes"
READ_TIMEOUT_S = 2.0  # a reading every 2 s: a slow server must not pile readings up


@dataclass(frozen=True)
class MetricsReading:
    """One /metrics answer: counters since the server started, and when (monotonic seconds) it was read."""

    at: float
    by_status: dict[str, float]  # /predict requests by HTTP status
    buckets: tuple[tuple[float, float], ...]  # the latency histogram: (upper bound s, cumulative count), sorted
    cpu_seconds: float | None  # None where the server's platform has no process collector (not Linux)
    rss_bytes: float | None

    @property
    def requests(self) -> int:
        """/predict requests counted since the server started."""
        return int(sum(self.by_status.values()))


@dataclass(frozen=True)
class IntervalStats:
    """What the server did between two readings."""

    seconds: float
    requests_per_s: float
    error_pct: float | None  # non-2xx share of the interval's /predict requests; None when there were none
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    cpu_pct: float | None  # of one core: 200 means two cores busy
    rss_mb: float | None


def parse_metrics(text: str, at: float | None = None) -> MetricsReading:
    """Read Prometheus text exposition into a ``MetricsReading`` (``at`` defaults to now, monotonic)."""
    from prometheus_client.parser import text_string_to_metric_families

    by_status: dict[str, float] = {}
    buckets: list[tuple[float, float]] = []
    cpu = rss = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == REQUESTS and sample.labels.get("path") == "/predict":
                status = sample.labels.get("status", "?")
                by_status[status] = by_status.get(status, 0.0) + sample.value
            elif sample.name == LATENCY_BUCKET:
                buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name == CPU_SECONDS:
                cpu = sample.value
            elif sample.name == RSS_BYTES:
                rss = sample.value
    return MetricsReading(time.monotonic() if at is None else at, by_status, tuple(sorted(buckets)), cpu, rss)


def quantile(buckets: tuple[tuple[float, float], ...] | list[tuple[float, float]], q: float) -> float | None:
    """The ``q`` quantile (seconds) of a cumulative histogram, interpolated inside its bucket as Prometheus does.

    None when the histogram counted nothing; the highest finite bound when the quantile falls in the +Inf bucket.
    """
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank and count > lower_count:
            if bound == float("inf"):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def _restarted(prev: MetricsReading, cur: MetricsReading) -> bool:
    """A counter went down: the server restarted between the readings, so ``cur`` counts from zero."""
    if cur.requests < prev.requests or any(cur.by_status.get(s, 0.0) < n for s, n in prev.by_status.items()):
        return True
    return prev.cpu_seconds is not None and cur.cpu_seconds is not None and cur.cpu_seconds < prev.cpu_seconds


def interval(prev: MetricsReading | None, cur: MetricsReading) -> IntervalStats | None:
    """What happened between ``prev`` and ``cur``; None without an earlier reading or when no time passed."""
    if prev is None or cur.at <= prev.at:
        return None
    seconds = cur.at - prev.at
    base = MetricsReading(prev.at, {}, (), 0.0, None) if _restarted(prev, cur) else prev
    served = {s: n - base.by_status.get(s, 0.0) for s, n in cur.by_status.items()}
    total = sum(served.values())
    errors = sum(n for s, n in served.items() if not s.startswith("2"))
    before = dict(base.buckets)
    delta = tuple((bound, count - before.get(bound, 0.0)) for bound, count in cur.buckets)

    def ms(q: float) -> float | None:
        value = quantile(delta, q)
        return None if value is None else round(value * 1000, 2)

    cpu = None
    if cur.cpu_seconds is not None and base.cpu_seconds is not None:
        cpu = round(100 * (cur.cpu_seconds - base.cpu_seconds) / seconds, 1)
    rss = None if cur.rss_bytes is None else round(cur.rss_bytes / 2**20, 1)
    return IntervalStats(seconds, total / seconds, 100 * errors / total if total else None,
                         ms(0.50), ms(0.95), ms(0.99), cpu, rss)


def read_endpoint(manager: Any, ep: Any, timeout: float = READ_TIMEOUT_S) -> MetricsReading | None:
    """The endpoint's /metrics as a reading (``manager`` an ``EndpointManager``); None when it does not answer."""
    token = manager.token(ep)
    if ep.state != "Ready" or not ep.url or not token:
        return None
    req = urllib.request.Request(f"{ep.url}/metrics", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return parse_metrics(r.read().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None
