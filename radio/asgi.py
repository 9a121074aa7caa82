"""ASGI entry point: Django for HTTP, Channels for WebSockets and streams."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radio.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
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

# A worker keeps many long-lived objects per listener. With Python's default
# thresholds full collections come every few seconds and pause the worker
# for about 70 ms per 1000 listeners (docs/PERFORMANCE.md); what is loaded by
# now lives as long as the process and need not be looked at again.
GC_THRESHOLDS = (100_000, 50, 1000)
gc.freeze()
gc.set_threshold(*GC_THRESHOLDS)
