"""ASGI entry point: Django for HTTP, Channels for WebSockets and streams."""

import importlib
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
from django.core.signals import request_finished
from django.urls import re_path

from radio.connections import ConnectionsPerAddress
from radio.daphne import check_connections_in_slices, drop_slow_handshakes
from radio.database import close_request_connections
from radio.middleware import ServerSendMiddleware, SharedCache
from radio.routing import http_urlpatterns, websocket_urlpatterns

# Else the first request imports the URLconf, and with it every view and the
# API's schemas, in the event loop's thread: a third of a second in which no
# listener is written to.
importlib.import_module(settings.ROOT_URLCONF)

application = ServerSendMiddleware(
    ProtocolTypeRouter(
        {
            "http": URLRouter(
                [*http_urlpatterns, re_path(r"", SharedCache(django_asgi_app))]
            ),
            "websocket": ConnectionsPerAddress(
                AllowedHostsOriginValidator(
                    AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                )
            ),
        }
    )
)

drop_slow_handshakes(settings.RADIO_HANDSHAKE_TIMEOUT_SECONDS)
check_connections_in_slices()
request_finished.connect(close_request_connections)


def when_serving(start: Callable[[], object]) -> None:
    """Call ``start`` in the server's event loop once daphne serves.

    Daphne does not speak ASGI lifespan. It installs Twisted's asyncio
    reactor before it imports this module, and that reactor runs the loop;
    elsewhere (tests driving ``application`` directly) nothing is started.
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is not None:
        reactor.callLater(0, start)


from radio import shutdown

when_serving(shutdown.start)

if settings.RADIO_AUTODJ:
    from stations.library import autodj

    when_serving(autodj.start)

from stations.sources import server as source_server

when_serving(source_server.start)

from stations.programme import sweeper

when_serving(sweeper.start)

from stations.webhooks import dispatcher as webhook_dispatcher

when_serving(webhook_dispatcher.start)

from stations.statistics import recorder as statistics_recorder

when_serving(statistics_recorder.start)

from radio import collector

# Python's collector, set for a worker of many long-lived listeners.
collector.configure()
when_serving(collector.start)
