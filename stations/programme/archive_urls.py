from django.urls import path

from . import archive_views, feeds

app_name = "programme"

urlpatterns = [
    path("stations/<slug:slug>/archive/", archive_views.archive, name="archive"),
    path(
        "stations/<slug:slug>/archive/<int:episode_id>/",
        archive_views.episode,
        name="episode",
    ),
    path(
        "stations/<slug:slug>/archive/<int:episode_id>.mp3",
        archive_views.episode_audio,
        name="episode_audio",
    ),
    path(
        "stations/<slug:slug>/podcast.xml",
        feeds.StationPodcast(),
        name="station_podcast",
    ),
    path(
        "stations/<slug:slug>/shows/<slug:show_slug>/",
        archive_views.show,
        name="show",
    ),
    path(
        "stations/<slug:slug>/shows/<slug:show_slug>/podcast.xml",
        feeds.ShowPodcast(),
        name="show_podcast",
    ),
    path(
        "stations/<slug:slug>/studio/episodes/",
        archive_views.studio_episode_list,
        name="studio_episodes",
    ),
    path(
        "stations/<slug:slug>/studio/episodes/<int:episode_id>/",
        archive_views.studio_episode_edit,
        name="studio_episode_edit",
    ),
    path(
        "stations/<slug:slug>/studio/episodes/<int:episode_id>/delete/",
        archive_views.studio_episode_delete,
        name="studio_episode_delete",
    ),
]
