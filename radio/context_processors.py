"""Template context every page gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import protocol as wire


def protocol(request: HttpRequest) -> dict[str, Any]:
    """The protocol's close codes, error codes and limits, as ``protocol``.

    base.html renders it once with ``json_script`` for static/radio/js/
    protocol.js; templates read limits from it (``maxlength``).
    """
    return {"protocol": wire.for_pages()}
