from django.urls import path

from . import views

app_name = "stations"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("stations.json", views.directory_status, name="directory_status"),
    path("worker.json", views.worker_status, name="worker_status"),
    path("stations/<slug:slug>/", views.listen, name="listen"),
    path("stations/<slug:slug>/studio/", views.studio, name="studio"),
    path("stations/<slug:slug>/status.json", views.status, name="status"),
]
