from django.urls import path

from radio.connections import ConnectionsPerAddress

from . import consumers, hls, streams

websocket_urlpatterns = [
    path("ws/stations/<slug:slug>/", consumers.StationConsumer.as_asgi()),
    path("ws/stations/<slug:slug>/broadcast/", consumers.BroadcastConsumer.as_asgi()),
]

http_urlpatterns = [
    path(
        "stations/<slug:slug>/stream.mp3",
        ConnectionsPerAddress(streams.station_stream),
    ),
    path("stations/<slug:slug>/hls/<str:name>", hls.station_hls),
]
