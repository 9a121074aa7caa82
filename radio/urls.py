from django.contrib import admin
from django.urls import include, path

from listeners.throttle import signin_throttled

urlpatterns = [
    # Before admin.site.urls, so that it answers /admin/login/ in its place.
    path("admin/login/", signin_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/", include("listeners.urls")),
    path("", include("stations.library.urls")),
    path("", include("stations.urls")),
]
