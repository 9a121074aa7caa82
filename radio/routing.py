"""Every app's WebSocket and streaming HTTP routes, gathered."""

from django.urls import re_path

from listeners import routing as listeners_routing
from stations import routing as stations_routing
from stations.consumers import NotFoundConsumer

websocket_urlpatterns = [
    *stations_routing.websocket_urlpatterns,
    *listeners_routing.websocket_urlpatterns,
    re_path(r"", NotFoundConsumer.as_asgi()),
]
http_urlpatterns = [*stations_routing.http_urlpatterns]
