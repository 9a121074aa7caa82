"""``{% request_panel station %}``: the listener page's "Request a song"."""

from __future__ import annotations

from typing import Any

from django import template

from stations.models import Station

from ..selectors import MAX_QUERY_CHARS, request_rules

register = template.Library()


@register.inclusion_tag("song_requests/panel.html", takes_context=True)
def request_panel(context: dict[str, Any], station: Station) -> dict[str, Any]:
    """The panel when the station takes requests; nothing otherwise."""
    return {
        "station": station,
        "enabled": request_rules(station).enabled,
        "user": context["user"],
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "max_query_chars": MAX_QUERY_CHARS,
    }
