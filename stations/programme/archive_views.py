"""The archive of recorded episodes, their audio, the show pages, and the
studio page where a station's DJs manage its episodes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from radio.protocol import MAX_TITLE_CHARS
from stations.access import managed_station
from stations.models import Station

from .archive import (
    episode_tracklist,
    episode_visible,
    public_episodes,
    show_public_episodes,
    studio_episodes,
)
from .audio import episode_audio_response
from .episodes import episode_delete, episode_update
from .forms import EpisodeForm
from .models import Episode, Show

# Episodes a page of the archive or the studio's list shows.
PAGE_EPISODES = 20
STILL_RECORDING = "The episode is still being recorded; wait until it ends."
# Other episodes of the show an episode page links.
OTHER_EPISODES = 10


@require_safe
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    """The station's published episodes, newest first, a page at a time.

    Template: ``programme/archive.html``; context: ``station``, ``page``.
    """
    station = get_object_or_404(Station, slug=slug)
    page = Paginator(public_episodes(station), PAGE_EPISODES).get_page(
        request.GET.get("page")
    )
    return render(request, "programme/archive.html", {"station": station, "page": page})


@require_safe
def episode(request: HttpRequest, slug: str, episode_id: int) -> HttpResponse:
    """A published episode: its player, its tracklist, the show's others.

    Template: ``programme/episode.html``; context: ``station``, ``episode``,
    ``tracklist``, ``others``.
    """
    station = get_object_or_404(Station, slug=slug)
    shown = get_object_or_404(public_episodes(station), pk=episode_id)
    others = (
        show_public_episodes(shown.show).exclude(pk=shown.pk)[:OTHER_EPISODES]
        if shown.show
        else []
    )
    return render(
        request,
        "programme/episode.html",
        {
            "station": station,
            "episode": shown,
            "tracklist": episode_tracklist(shown),
            "others": others,
        },
    )


@require_safe
def episode_audio(request: HttpRequest, slug: str, episode_id: int) -> HttpResponse:
    """The episode's MP3, seekable (``Range``); unpublished and unfinished
    episodes only for the station's DJs and staff."""
    played = get_object_or_404(
        Episode.objects.select_related("station"), station__slug=slug, pk=episode_id
    )
    if not episode_visible(played, request.user):
        raise Http404("No such episode.")
    try:
        return episode_audio_response(request, played)
    except FileNotFoundError:
        raise Http404("The episode's recording is gone.") from None


@require_safe
def show(request: HttpRequest, slug: str, show_slug: str) -> HttpResponse:
    """A show: its description, hosts, image and published episodes.

    Template: ``programme/show.html``; context: ``station``, ``show``,
    ``page``.
    """
    shown = get_object_or_404(
        Show.objects.select_related("station").prefetch_related("hosts"),
        station__slug=slug,
        slug=show_slug,
    )
    page = Paginator(show_public_episodes(shown), PAGE_EPISODES).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "programme/show.html",
        {"station": shown.station, "show": shown, "page": page},
    )


@require_safe
def show_image(request: HttpRequest, slug: str, show_slug: str) -> FileResponse:
    """The show's image, for its page and its podcast's artwork."""
    shown = get_object_or_404(Show, station__slug=slug, slug=show_slug)
    if not shown.image:
        raise Http404("The show has no image.")
    try:
        image = shown.image.open("rb")
    except FileNotFoundError:
        raise Http404("The show's image is gone.") from None
    response = FileResponse(image)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@login_required
@require_safe
def studio_episode_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Every episode of the station, for its DJs to rename, publish, hide
    and delete.

    Template: ``programme/studio_episodes.html``; context: ``station``,
    ``page``.
    """
    return _studio_page(request, _managed_station(request, slug))


@login_required
@require_POST
def studio_episode_edit(
    request: HttpRequest, slug: str, episode_id: int
) -> HttpResponse:
    """Rename an episode, and publish or hide it."""
    edited = _managed_episode(request, slug, episode_id)
    if edited.ended_at is None:
        return _studio_page(request, edited.station, error=STILL_RECORDING, status=409)
    form = EpisodeForm(request.POST, instance=Episode.objects.get(pk=edited.pk))
    if not form.is_valid():
        error = " ".join(message for field in form.errors.values() for message in field)
        return _studio_page(request, edited.station, error=error, status=400)
    episode_update(
        episode=edited,
        title=form.cleaned_data["title"],
        published=form.cleaned_data["published"],
    )
    messages.success(request, f"Saved “{edited.title}”.")
    return redirect("programme:studio_episodes", slug)


@login_required
@require_POST
def studio_episode_delete(
    request: HttpRequest, slug: str, episode_id: int
) -> HttpResponse:
    """Delete an episode and its recording."""
    deleted = _managed_episode(request, slug, episode_id)
    if deleted.ended_at is None:
        return _studio_page(request, deleted.station, error=STILL_RECORDING, status=409)
    episode_delete(episode=deleted)
    messages.success(request, f"Deleted “{deleted.title}”.")
    return redirect("programme:studio_episodes", slug)


def _managed_station(request: HttpRequest, slug: str) -> Station:
    return managed_station(
        request, slug, "Only this station's DJs may manage its episodes."
    )


def _managed_episode(request: HttpRequest, slug: str, episode_id: int) -> Episode:
    station = _managed_station(request, slug)
    return get_object_or_404(
        Episode.objects.select_related("station"), station=station, pk=episode_id
    )


def _studio_page(
    request: HttpRequest, station: Station, *, error: str = "", status: int = 200
) -> HttpResponse:
    page = Paginator(studio_episodes(station), PAGE_EPISODES).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "programme/studio_episodes.html",
        {
            "station": station,
            "page": page,
            "error": error,
            "title_max": MAX_TITLE_CHARS,
        },
        status=status,
    )
