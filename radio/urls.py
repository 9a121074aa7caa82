from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("listeners.urls")),
    path("", include("library.urls")),
    path("", include("stations.urls")),
]
