"""The main site's Icecast and Shoutcast endpoints for encoders.

Async, so that they read the station bus of the server's event loop.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from listeners.throttle import client_address

from ..runtime import get_bus
from ..selectors import astation_states
from .metadata import answer_admin_request
from .status import icestats


@require_GET
async def admin_request(request: HttpRequest) -> HttpResponse:
    """``/admin/metadata`` (Icecast) and ``/admin.cgi`` (Shoutcast): an
    encoder sets the title of the station it is live on."""
    answer = await answer_admin_request(
        path=request.path_info,
        query=_raw_query(request),
        authorization=request.headers.get("Authorization"),
        address=client_address(request),
    )
    response = HttpResponse(
        answer.body, status=answer.status, content_type=answer.content_type
    )
    for name, value in answer.headers:
        response[name] = value
    return response


def _raw_query(request: HttpRequest) -> bytes:
    """The query as sent: QUERY_STRING is already decoded, and encoders send
    titles in any character set (``metadata.query_values``)."""
    query = request.scope["query_string"]
    # ASGI servers give bytes; Django's test client gives a str.
    return query if isinstance(query, bytes) else query.encode()


@require_GET
async def status_json(request: HttpRequest) -> JsonResponse:
    """``/status-json.xsl``: the stations on air as Icecast 2.4 lists mounts."""
    stations = await astation_states(get_bus())
    document = icestats(
        stations, host=request.get_host(), absolute_url=request.build_absolute_uri
    )
    response = JsonResponse(document)
    # Web pages and OBS browser docks of any site may read it, as Icecast's.
    response["Access-Control-Allow-Origin"] = "*"
    return response
