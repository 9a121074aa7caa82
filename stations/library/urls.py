from django.urls import path

from . import views

app_name = "library"

urlpatterns = [
    path("stations/<slug:slug>/studio/library/", views.library, name="library"),
    path("stations/<slug:slug>/studio/library/order/", views.order, name="order"),
    path(
        "stations/<slug:slug>/studio/library/settings/",
        views.playout_settings,
        name="settings",
    ),
    path(
        "stations/<slug:slug>/studio/library/<int:track_id>/delete/",
        views.delete,
        name="delete",
    ),
]
