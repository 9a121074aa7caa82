"""Reading the recorded episodes: the public archive and the studio's list."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from stations.models import Station
from stations.selectors import station_managed_by

from .models import Episode, Play, Show


def public_episodes(station: Station) -> QuerySet[Episode]:
    """The station's finished, published episodes, newest first."""
    return (
        Episode.objects.filter(station=station, published=True)
        .exclude(ended_at=None)
        .select_related("station", "show")
        .order_by("-started_at", "-id")
    )


def show_public_episodes(show: Show) -> QuerySet[Episode]:
    return public_episodes(show.station).filter(show=show)


def tracklist_order() -> QuerySet[Play]:
    return Play.objects.order_by("offset_ms", "started_at", "id")


def episode_tracklist(episode: Episode) -> list[Play]:
    """What was played in the episode, in the order it was played."""
    return list(tracklist_order().filter(episode=episode))


def with_tracklists(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """``episodes``, each with its ``tracklist.all()`` fetched in order."""
    return episodes.prefetch_related(Prefetch("tracklist", tracklist_order()))


def studio_episodes(station: Station) -> QuerySet[Episode]:
    """Every episode of the station, recording or not, published or not."""
    return Episode.objects.filter(station=station).select_related("station", "show")


def episode_visible(episode: Episode, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Anyone may play a published, finished episode; its station's DJs and
    staff may play any."""
    if episode.published and episode.ended_at is not None:
        return True
    return station_managed_by(episode.station, user)


def clock(milliseconds: int | float | None) -> str:
    """A length or offset as a player shows it: "4:05", "1:02:03"."""
    seconds = int((milliseconds or 0) // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"
