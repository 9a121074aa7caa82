"""The public API under ``/api/``: its OpenAPI schema at ``/api/openapi.json``
and its docs page at ``/api/docs/`` are made by django-ninja from the
routers' signatures and schemas, never written by hand."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, Throttled

from stations.middleware import UNAVAILABLE, unavailable_headers
from stations.streaming.bus import BusUnavailable

from . import me, requests, routes, webhooks

api = NinjaAPI(
    title="radio",
    version="1",
    description=(
        "A station's now playing in AzuraCast's shape, its schedule and play "
        "history. Read endpoints are public and cached for a few seconds."
    ),
    docs_url="/docs/",
    urls_namespace="api",
)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401 naming the scheme to use, as HTTP asks (RFC 9110, 11.6.1)."""
    response = api.create_response(request, {"detail": str(exc)}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="radio"'
    return response


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    """429 with ``Retry-After`` when the wait is known."""
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    if exc.wait:
        response["Retry-After"] = str(exc.wait)
    return response


@api.exception_handler(BusUnavailable)
def unavailable(request: HttpRequest, exc: BusUnavailable) -> HttpResponse:
    """503 while Redis is away, as the pages answer (``stations.middleware``)."""
    response = api.create_response(request, {"detail": UNAVAILABLE}, status=503)
    for name, value in unavailable_headers().items():
        response[name] = value
    return response


api.add_router("", routes.router)
api.add_router("", me.router)
api.add_router("", webhooks.router)
api.add_router("", requests.router)
