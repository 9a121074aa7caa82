"""The studio's statistics page in Chromium: Chart.js draws the listeners
over time and the clients from the sessions stored, with no error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DJ, STATION

PAGE = f"/stations/{STATION}/studio/statistics/"


@pytest.fixture(scope="module")
def sessions(deployment) -> None:
    """Three sessions in the last hours: two at once, VLC and browsers."""
    deployment.shell(
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from stations.models import Station\n"
        "from stations.statistics.models import ListeningSession\n"
        f"station = Station.objects.get(slug={STATION!r})\n"
        "now = timezone.now()\n"
        "for minutes, kind, address in ((90, 'vlc', 'a'), (80, 'browser', 'b'),"
        " (30, 'browser', 'c')):\n"
        "    start = now - timedelta(minutes=minutes)\n"
        "    ListeningSession.objects.create(station=station, started_at=start,"
        " ended_at=start + timedelta(minutes=20), duration_s=1200,"
        " transport='websocket', client_kind=kind, address_hash=address * 64)\n"
    )


def test_the_charts_render_the_sessions(sessions, new_page):
    console_errors: list[str] = []
    page = new_page(DJ)
    page.on(
        "console",
        lambda message: message.type == "error" and console_errors.append(message.text),
    )
    page.goto(PAGE)

    expect(page.locator("#stat-sessions")).to_have_text("3")
    expect(page.locator("#stat-peak")).to_have_text("2")
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('clients-chart')) !== undefined"
    )
    listeners = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById("listeners-chart"));
          const canvas = chart.canvas;
          return {
            points: chart.getDatasetMeta(0).data.length,
            peak: Math.max(...chart.data.datasets[1].data),
            width: canvas.width,
            height: canvas.height,
          };
        }"""
    )
    # 24 hours of 5-minute buckets, and the one now is in when off a boundary.
    assert listeners["points"] in (24 * 12, 24 * 12 + 1)
    assert listeners["peak"] == 2
    assert listeners["width"] > 0 and listeners["height"] > 0
    clients = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById("clients-chart"));
          return [chart.data.labels, chart.data.datasets[0].data,
                  chart.getDatasetMeta(0).data.length];
        }"""
    )
    assert clients == [["Browser", "VLC"], [2, 1], 2]
    assert console_errors == []


def test_the_range_switch_redraws_by_hour(sessions, new_page):
    page = new_page(DJ, path=PAGE)
    page.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?range=7d")
    points = page.evaluate(
        "() => Chart.getChart(document.getElementById('listeners-chart'))"
        ".getDatasetMeta(0).data.length"
    )
    assert points in (7 * 24, 7 * 24 + 1)
