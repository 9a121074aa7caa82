from django.contrib import admin
from django.urls import include, path

from listeners.throttle import signin_throttled
from stations.api import playlists
from stations.api.api import api
from stations.sources import views as sources_views

urlpatterns = [
    # Before admin.site.urls, so that it answers /admin/login/ in its place.
    path("admin/login/", signin_throttled(admin.site.login)),
    # Icecast's path for encoders' title updates, inside Django's admin's.
    path("admin/metadata", sources_views.admin_request, name="icecast_metadata"),
    path("admin.cgi", sources_views.admin_request, name="shoutcast_metadata"),
    path("status-json.xsl", sources_views.status_json, name="icecast_status"),
    path("admin/", admin.site.urls),
    path("accounts/", include("listeners.urls")),
    path("api/", api.urls),
    path("listen/<slug:slug>.m3u", playlists.m3u, name="playlist_m3u"),
    path("listen/<slug:slug>.pls", playlists.pls, name="playlist_pls"),
    path("", include("stations.library.urls")),
    path("", include("stations.programme.urls")),
    path("", include("stations.webhooks.urls")),
    path("", include("stations.statistics.urls")),
    path("", include("stations.urls")),
]
