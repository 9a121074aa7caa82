"""Who calls the API: a personal API key (``Authorization: Bearer``) or
the signed-in session (whose unsafe methods need the CSRF token).

Wrong keys are counted per client address, with the sign-in address limit;
an address that reaches it may use no key for a while (HTTP 429).
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.security import HttpBearer, django_auth

from listeners.api_keys import api_key_authenticate
from listeners.throttle import api_key_failure_record, api_key_wait_seconds


class ApiKeyAuth(HttpBearer):
    """A user's personal API key as a bearer token."""

    def __call__(self, request: HttpRequest) -> Any | None:
        # Checked before the key, so that a locked address learns nothing
        # about the keys it tries.
        scheme = request.headers.get(self.header, "").split(" ")[0]
        if scheme.lower() == self.openapi_scheme:
            wait_seconds = api_key_wait_seconds(request)
            if wait_seconds:
                raise Throttled(wait=math.ceil(wait_seconds))
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = api_key_authenticate(token)
        if user is None:
            api_key_failure_record(request)
            return None
        request.user = user
        return user


# For the ``auth=`` of operations that need a user; ``request.auth`` is
# the user either way.
key_or_session = [ApiKeyAuth(), django_auth]
