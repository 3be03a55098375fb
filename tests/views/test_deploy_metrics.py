"""The Deploy tab's four live charts fed with a real endpoint's /metrics readings, between which real traffic ran."""

from __future__ import annotations

import time

import httpx
import pytest

from app.deploy.metrics_reading import parse_metrics
from app.views.deploy.metrics_chart import MetricsChart
from tests.deploy.conftest import Endpoint


@pytest.fixture
def endpoint(tmp_path, checkpoints):
    folder, _ = checkpoints
    (tmp_path / "ep").mkdir()
    ep = Endpoint(tmp_path / "ep", tmp_path / "home", {"model": str(folder / "detect_yolo26n.pt")})
    try:
        ep.wait_state("Ready", timeout=90)
        yield ep, next(p for p in sorted((folder / "data" / "detect").rglob("*.png")) if "val" in p.parts)
    finally:
        ep.kill()


def _read(ep):
    """One reading, as the tab's ``read_endpoint`` makes it (that path is clicked through in test_deploy_tab.py)."""
    return parse_metrics(httpx.get(f"{ep.url}/metrics", headers=ep.auth, timeout=10).text)


def _points(curve) -> int:
    xs, _ys = curve.getData()
    return 0 if xs is None else len(xs)


def test_the_four_charts_get_points_from_a_real_endpoint(qtbot, endpoint):
    ep, image = endpoint
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.resize(900, 300)
    chart.show()
    assert [n.isVisible() for n in chart.placeholders] == [True] * 4  # empty plots say why, not a bare 0–1 grid
    for _ in range(3):
        chart.add_reading(_read(ep))
        httpx.post(f"{ep.url}/predict", headers=ep.auth, files={"file": image.read_bytes()}, timeout=60)
        httpx.post(f"{ep.url}/predict", files={"file": image.read_bytes()}, timeout=10)  # refused: no token
        time.sleep(0.05)
    chart.add_reading(_read(ep))
    assert len(chart.rates) == 3 and all(rate > 0 for _, rate in chart.rates)
    assert [e for _, e in chart.errors] == pytest.approx([50.0] * 3)  # one refused of every two
    assert all(len(chart.latency[q]) == 3 for q in ("p50", "p95", "p99"))
    assert len(chart.cpu) == 3 and len(chart.memory) == 4 and all(mb > 50 for _, mb in chart.memory)
    curves = (chart.rate_curve, chart.error_curve, chart.cpu_curve, chart.memory_curve, *chart.latency_curves.values())
    assert [_points(c) for c in curves] == [3, 3, 3, 4, 3, 3, 3]  # what is drawn is what was worked out
    assert [n.isVisible() for n in chart.placeholders] == [False] * 4
    chart.clear()
    assert [_points(c) for c in curves] == [0] * 7
    assert [n.isVisible() for n in chart.placeholders] == [True] * 4
