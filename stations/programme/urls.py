from django.urls import path

from . import archive_views, feeds, history_views, schedule_views

app_name = "programme"

STATION = "stations/<slug:slug>/"
ARCHIVE = f"{STATION}archive/"
SHOW = f"{STATION}shows/<slug:show_slug>/"
STUDIO_SHOWS = f"{STATION}studio/shows/"
STUDIO_EPISODES = f"{STATION}studio/episodes/"

urlpatterns = [
    # The schedule, and the DJs' shows and slots.
    path(f"{STATION}schedule/", schedule_views.schedule, name="schedule"),
    path(f"{STATION}schedule.ics", schedule_views.schedule_ics, name="schedule_ics"),
    path(STUDIO_SHOWS, schedule_views.studio_shows, name="studio_shows"),
    path(
        f"{STUDIO_SHOWS}<slug:show_slug>/",
        schedule_views.studio_show,
        name="studio_show",
    ),
    path(
        f"{STUDIO_SHOWS}<slug:show_slug>/delete/",
        schedule_views.studio_show_delete,
        name="studio_show_delete",
    ),
    path(
        f"{STUDIO_SHOWS}<slug:show_slug>/slots/",
        schedule_views.studio_slot_add,
        name="slot_add",
    ),
    path(
        f"{STUDIO_SHOWS}<slug:show_slug>/slots/<int:slot_id>/delete/",
        schedule_views.studio_slot_delete,
        name="slot_delete",
    ),
    # Recorded episodes: the archive, the shows' pages, podcasts.
    path(ARCHIVE, archive_views.archive, name="archive"),
    path(f"{ARCHIVE}<int:episode_id>/", archive_views.episode, name="episode"),
    path(
        f"{ARCHIVE}<int:episode_id>.mp3",
        archive_views.episode_audio,
        name="episode_audio",
    ),
    path(f"{STATION}podcast.xml", feeds.StationPodcast(), name="station_podcast"),
    path(SHOW, archive_views.show, name="show"),
    path(f"{SHOW}image", archive_views.show_image, name="show_image"),
    path(f"{SHOW}podcast.xml", feeds.ShowPodcast(), name="show_podcast"),
    path(
        STUDIO_EPISODES,
        archive_views.studio_episode_list,
        name="studio_episodes",
    ),
    path(
        f"{STUDIO_EPISODES}<int:episode_id>/",
        archive_views.studio_episode_edit,
        name="studio_episode_edit",
    ),
    path(
        f"{STUDIO_EPISODES}<int:episode_id>/delete/",
        archive_views.studio_episode_delete,
        name="studio_episode_delete",
    ),
    # The play history.
    path(f"{STATION}history/", history_views.history, name="history"),
    path(f"{STATION}history.csv", history_views.history_csv, name="history_csv"),
]
