from django.urls import path

from . import views

app_name = "statistics"

STATISTICS = "stations/<slug:slug>/studio/statistics/"

urlpatterns = [
    path(STATISTICS, views.statistics, name="statistics"),
    path(f"{STATISTICS}sessions.csv", views.sessions_csv, name="sessions_csv"),
    path(f"{STATISTICS}plays.csv", views.plays_csv, name="plays_csv"),
]
