"""ASGI entry point: Django for HTTP, Channels for WebSockets and streams."""

import gc
import os
import sys
from collections.abc import Callable

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radio.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.urls import re_path

from radio.middleware import ServerSendMiddleware
from radio.routing import http_urlpatterns, websocket_urlpatterns

application = ServerSendMiddleware(
    ProtocolTypeRouter(
        {
            "http": URLRouter([*http_urlpatterns, re_path(r"", django_asgi_app)]),
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)


def when_serving(start: Callable[[], object]) -> None:
    """Call ``start`` in the server's event loop once daphne serves.

    Daphne does not speak ASGI lifespan. It installs Twisted's asyncio
    reactor before it imports this module, and that reactor runs the loop;
    elsewhere (tests driving ``application`` directly) nothing is started.
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is not None:
        reactor.callLater(0, start)


if settings.RADIO_AUTODJ:
    from stations.library import autodj

    when_serving(autodj.start)

from stations.sources import server as source_server

when_serving(source_server.start)

from stations.programme import sweeper

when_serving(sweeper.start)

# A worker keeps many long-lived objects per listener. With Python's default
# thresholds full collections come every few seconds and pause the worker
# for about 70 ms per 1000 listeners (docs/PERFORMANCE.md); what is loaded by
# now lives as long as the process and need not be looked at again.
GC_THRESHOLDS = (100_000, 50, 1000)
gc.freeze()
gc.set_threshold(*GC_THRESHOLDS)
