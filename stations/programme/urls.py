from django.urls import path

from . import views

app_name = "programme"

STUDIO = "stations/<slug:slug>/studio/shows/"

urlpatterns = [
    path("stations/<slug:slug>/schedule/", views.schedule, name="schedule"),
    path("stations/<slug:slug>/schedule.ics", views.schedule_ics, name="schedule_ics"),
    path(STUDIO, views.studio_shows, name="studio_shows"),
    path(f"{STUDIO}<slug:show_slug>/", views.studio_show, name="studio_show"),
    path(
        f"{STUDIO}<slug:show_slug>/delete/",
        views.studio_show_delete,
        name="studio_show_delete",
    ),
    path(f"{STUDIO}<slug:show_slug>/slots/", views.studio_slot_add, name="slot_add"),
    path(
        f"{STUDIO}<slug:show_slug>/slots/<int:slot_id>/delete/",
        views.studio_slot_delete,
        name="slot_delete",
    ),
]
