"""Every app's WebSocket and streaming HTTP routes, gathered."""

from stations import routing as stations_routing

websocket_urlpatterns = [*stations_routing.websocket_urlpatterns]
http_urlpatterns = [*stations_routing.http_urlpatterns]
