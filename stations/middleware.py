"""What the site answers while the station bus cannot reach Redis."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from .streaming.bus import BusUnavailable

# The bus reconnects by itself, well within this.
RETRY_AFTER_S = 5
UNAVAILABLE = "Stations are unavailable for a moment; try again in a few seconds."


def unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)}


class BusUnavailableMiddleware(MiddlewareMixin):
    """A view that needed the station bus while Redis was away
    (``status.json``, ``stations.json``) answers 503 with ``Retry-After``,
    not a 500."""

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> JsonResponse | None:
        if not isinstance(exception, BusUnavailable):
            return None
        return JsonResponse(
            {"error": UNAVAILABLE}, status=503, headers=unavailable_headers()
        )
