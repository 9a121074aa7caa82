"""Cross-origin reads of the public API and the playlist files: any web page
may read them (widgets on other sites), as AzuraCast allows."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

PUBLIC_PREFIXES = ("/api/", "/listen/")
READ_METHODS = "GET, HEAD, OPTIONS"
# Seconds a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE_SECONDS = 86400


def is_public_read(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD", "OPTIONS") and request.path.startswith(
        PUBLIC_PREFIXES
    )


def preflight_response() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = READ_METHODS
    response["Access-Control-Allow-Headers"] = "*"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


class PublicReadCorsMiddleware:
    """Sends ``Access-Control-Allow-Origin: *`` on public reads and answers
    their ``OPTIONS`` preflight itself."""

    async_capable = True
    sync_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if is_public_read(request) and request.method == "OPTIONS":
            return self._allow(preflight_response())
        return self._allowed_if_public(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest):
        if is_public_read(request) and request.method == "OPTIONS":
            return self._allow(preflight_response())
        return self._allowed_if_public(request, await self.get_response(request))

    def _allowed_if_public(self, request: HttpRequest, response: HttpResponse):
        return self._allow(response) if is_public_read(request) else response

    @staticmethod
    def _allow(response: HttpResponse) -> HttpResponse:
        response["Access-Control-Allow-Origin"] = "*"
        return response
