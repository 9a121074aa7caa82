from django.urls import path

from . import consumers, streams

websocket_urlpatterns = [
    path("ws/stations/<slug:slug>/", consumers.StationConsumer.as_asgi()),
    path("ws/stations/<slug:slug>/broadcast/", consumers.BroadcastConsumer.as_asgi()),
]

http_urlpatterns = [
    path("stations/<slug:slug>/stream.mp3", streams.station_stream),
]
