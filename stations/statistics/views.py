"""The statistics page of a station's studio and its CSV exports, for the
station's DJs and staff."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone

from stations.access import amanaged_station, managed_station
from stations.models import Station
from stations.programme.history_views import in_chunks

from .export import export_filename, play_lines, session_lines
from .selectors import (
    RANGES,
    RangeError,
    StationStatistics,
    station_statistics,
    stats_range,
)

FORBIDDEN = "Only staff and this station's DJs see its statistics."


@login_required
def statistics(request: HttpRequest, slug: str) -> HttpResponse:
    """Listeners over time, totals, clients, shows and tracks for a range.

    Template: ``statistics/statistics.html``; context: ``station``, ``stats``
    (``StationStatistics``), ``ranges``, ``chart`` (the charts' data, for
    ``json_script``).
    """
    station = managed_station(request, slug, FORBIDDEN)
    try:
        chosen = stats_range(request.GET.get("range"))
    except RangeError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    stats = station_statistics(station, chosen, timezone.now())
    context = {
        "station": station,
        "stats": stats,
        "ranges": RANGES.values(),
        "chart": chart_data(station, stats),
    }
    return render(request, "statistics/statistics.html", context)


def chart_data(station: Station, stats: StationStatistics) -> dict:
    """What ``static/radio/js/statistics.js`` draws."""
    return {
        "timezone": station.timezone,
        "range": stats.range.key,
        "times": [
            datetime.fromtimestamp(bucket.start, UTC).isoformat()
            for bucket in stats.timeline
        ],
        "average": [round(bucket.average, 2) for bucket in stats.timeline],
        "peak": [bucket.peak for bucket in stats.timeline],
        "clients": [
            {"label": label, "sessions": count}
            for _, label, count in stats.client_kinds
        ],
    }


@login_required
async def sessions_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The sessions open in ``range`` as CSV, streamed."""
    return await _csv(request, slug, "sessions", session_lines)


@login_required
async def plays_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The plays of ``range`` with their listeners as CSV, streamed."""
    return await _csv(request, slug, "plays", play_lines)


async def _csv(
    request: HttpRequest,
    slug: str,
    what: str,
    lines: Callable[..., Iterator[str]],
) -> HttpResponse:
    station = await amanaged_station(request, slug, FORBIDDEN)
    try:
        chosen = stats_range(request.GET.get("range"))
    except RangeError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    response = StreamingHttpResponse(
        in_chunks(lines(station, chosen, timezone.now())),
        content_type="text/csv; charset=utf-8",
    )
    filename = export_filename(station, what, chosen)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
