from django.urls import path

from . import history_views

app_name = "history"

urlpatterns = [
    path("stations/<slug:slug>/history/", history_views.history, name="page"),
    path("stations/<slug:slug>/history.csv", history_views.history_csv, name="csv"),
]
