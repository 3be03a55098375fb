"""The live charts' figures from /metrics: a real endpoint after known traffic, and histograms of known observations."""

from __future__ import annotations

import time

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from app.deploy.metrics_reading import MetricsReading, interval, parse_metrics, quantile

SERVER_BUCKETS = (.005, .01, .02, .03, .05, .075, .1, .15, .25, .5, 1, 2.5, 5, 10, 30)  # remote_agent/serve_app.py


@pytest.fixture(scope="module")
def detect_endpoint(start_endpoint, task_weights):
    ep = start_endpoint(model=str(task_weights["detect"]))
    ep.wait_state("Ready", timeout=90)
    yield ep
    assert ep.stop() == 0


def _reading(ep) -> MetricsReading:
    return parse_metrics(httpx.get(f"{ep.url}/metrics", headers=ep.auth, timeout=10).text)


def test_a_real_endpoint_error_rate_is_the_refused_share(detect_endpoint, task_images):
    url, image = f"{detect_endpoint.url}/predict", task_images["detect"].read_bytes()
    httpx.post(url, headers=detect_endpoint.auth, files={"file": image}, timeout=60)  # warm: not in the interval
    before = _reading(detect_endpoint)
    statuses = [httpx.post(url, headers=detect_endpoint.auth, files={"file": image}, timeout=60).status_code
                for _ in range(4)]
    statuses += [httpx.post(url, files={"file": image}, timeout=10).status_code for _ in range(2)]  # no token
    statuses.append(httpx.post(url, headers=detect_endpoint.auth, files={"file": ("x.png", b"not a picture")},
                               timeout=10).status_code)
    time.sleep(0.2)  # a wall interval the CPU seconds are divided by
    after = _reading(detect_endpoint)
    assert statuses == [200] * 4 + [401, 401, 415]
    stats = interval(before, after)
    assert stats is not None
    assert after.requests - before.requests == 7
    assert stats.error_pct == pytest.approx(100 * 3 / 7)
    assert stats.requests_per_s == pytest.approx(7 / stats.seconds)
    assert stats.p50_ms is not None and 0 < stats.p50_ms <= stats.p95_ms <= stats.p99_ms  # type: ignore[operator]
    assert stats.cpu_pct is not None and stats.cpu_pct > 0  # four inferences took CPU time
    assert stats.rss_mb is not None and stats.rss_mb > 50  # torch and a model are resident
    quiet = interval(after, _reading(detect_endpoint))
    assert quiet is not None and quiet.error_pct is None and quiet.p95_ms is None  # nothing served, nothing timed


def _histogram_text(*batches: list[float]) -> list[str]:
    """Prometheus text after each batch of observations, from a real histogram with the server's buckets."""
    registry = CollectorRegistry()
    latency = Histogram("yolodesk_endpoint_predict_seconds", "t", buckets=SERVER_BUCKETS, registry=registry)
    requests = Counter("yolodesk_endpoint_requests", "r", ["path", "status"], registry=registry)
    texts = []
    for batch in batches:
        for seconds in batch:
            latency.observe(seconds)
            requests.labels("/predict", "200").inc()
        texts.append(generate_latest(registry).decode())
    return texts


def test_quantiles_interpolate_inside_the_bucket():
    (text,) = _histogram_text([0.004] * 50 + [0.04] * 45 + [0.4] * 5)
    buckets = parse_metrics(text).buckets
    assert quantile(buckets, 0.50) == pytest.approx(0.005)  # the 50th of 50 in (0, 5 ms]
    assert quantile(buckets, 0.95) == pytest.approx(0.05)  # the last of (30, 50 ms]
    assert quantile(buckets, 0.99) == pytest.approx(0.45)  # 4 of the 5 in (250, 500 ms]
    (slow,) = _histogram_text([45.0] * 10)  # beyond the highest bound: that bound, not infinity
    assert quantile(parse_metrics(slow).buckets, 0.5) == 30
    assert quantile(parse_metrics(_histogram_text([])[0]).buckets, 0.5) is None


def test_interval_quantiles_are_of_the_interval_not_since_start():
    first, second = _histogram_text([0.4] * 100, [0.004] * 100)
    stats = interval(parse_metrics(first, at=10.0), parse_metrics(second, at=12.0))
    assert stats is not None
    assert stats.p99_ms is not None and stats.p99_ms <= 5  # the slow first hundred are not in it
    assert quantile(parse_metrics(second).buckets, 0.99) == pytest.approx(0.5 - 0.25 * 0.02)  # since start: slow
    assert stats.requests_per_s == pytest.approx(50) and stats.error_pct == 0
    assert stats.cpu_pct is None and stats.rss_mb is None  # this registry has no process collector


def test_a_restarted_server_counts_from_zero_never_negative():
    (long_run,) = _histogram_text([0.01] * 100)
    (restarted,) = _histogram_text([0.04] * 3)
    stats = interval(parse_metrics(long_run, at=0.0), parse_metrics(restarted, at=2.0))
    assert stats is not None and stats.requests_per_s == pytest.approx(1.5)
    assert stats.p50_ms is not None and 30 < stats.p50_ms <= 50
    assert interval(None, parse_metrics(restarted)) is None
