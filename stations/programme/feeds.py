"""Podcast feeds (RSS 2.0 with Apple's ``itunes`` and the Podcast
Namespace's ``podcast`` tags) of a station's and a show's episodes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Enclosure, Rss201rev2Feed

from stations.models import Station

from .archive import clock, public_episodes, show_public_episodes, with_tracklists
from .audio import MIME_TYPE
from .models import Episode, Show

ITUNES_NAMESPACE = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NAMESPACE = "https://podcastindex.org/namespace/1.0"
# Apple's category for every station's podcast.
ITUNES_CATEGORY = "Music"
# The newest episodes a feed lists; podcast apps keep what they fetched.
FEED_EPISODES = 100


class PodcastRss(Rss201rev2Feed):
    """RSS 2.0 with the channel and item tags podcast apps read."""

    content_type = "application/rss+xml; charset=utf-8"

    def rss_attributes(self) -> dict[str, str]:
        return {
            **super().rss_attributes(),
            "xmlns:itunes": ITUNES_NAMESPACE,
            "xmlns:podcast": PODCAST_NAMESPACE,
        }

    def add_root_elements(self, handler) -> None:
        super().add_root_elements(handler)
        handler.addQuickElement("itunes:author", self.feed["itunes_author"])
        handler.addQuickElement("itunes:summary", self.feed["description"])
        if self.feed["itunes_image"]:
            handler.addQuickElement(
                "itunes:image", attrs={"href": self.feed["itunes_image"]}
            )
            handler.startElement("image", {})
            handler.addQuickElement("url", self.feed["itunes_image"])
            handler.addQuickElement("title", self.feed["title"])
            handler.addQuickElement("link", self.feed["link"])
            handler.endElement("image")
        handler.addQuickElement("itunes:category", attrs={"text": ITUNES_CATEGORY})
        handler.addQuickElement("itunes:explicit", "false")
        handler.addQuickElement("itunes:type", "episodic")
        handler.addQuickElement("podcast:medium", "podcast")

    def add_item_elements(self, handler, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("itunes:duration", item["itunes_duration"])
        handler.addQuickElement("itunes:episodeType", "full")


@dataclass(frozen=True)
class Podcast:
    """What a feed is of, and where the request came from."""

    station: Station
    show: Show | None
    request: HttpRequest


def with_audio_urls(podcast: Podcast, episodes: Iterable[Episode]) -> list[Episode]:
    """``episodes``, each with the absolute URL of its audio (``audio_url``):
    podcast apps take no relative enclosure URL."""
    listed = list(episodes)
    for episode in listed:
        episode.audio_url = podcast.request.build_absolute_uri(
            reverse("programme:episode_audio", args=[podcast.station.slug, episode.pk])
        )
    return listed


class StationPodcast(Feed):
    """``/stations/<slug>/podcast.xml``: every published episode."""

    feed_type = PodcastRss

    def get_object(self, request: HttpRequest, slug: str) -> Podcast:
        return Podcast(get_object_or_404(Station, slug=slug), None, request)

    def title(self, podcast: Podcast) -> str:
        return podcast.station.name

    def link(self, podcast: Podcast) -> str:
        return reverse("programme:archive", args=[podcast.station.slug])

    def description(self, podcast: Podcast) -> str:
        return (
            podcast.station.description
            or f"Live shows recorded on {podcast.station.name}."
        )

    def feed_extra_kwargs(self, podcast: Podcast) -> dict[str, str]:
        return {"itunes_author": podcast.station.name, "itunes_image": ""}

    def items(self, podcast: Podcast) -> list[Episode]:
        return with_audio_urls(
            podcast, with_tracklists(public_episodes(podcast.station))[:FEED_EPISODES]
        )

    def item_title(self, episode: Episode) -> str:
        return episode.title

    def item_link(self, episode: Episode) -> str:
        return reverse("programme:episode", args=[episode.station.slug, episode.pk])

    def item_guid(self, episode: Episode) -> str:
        # Stable whatever the site's address: the station's slug and the id.
        return f"radio:{episode.station.slug}:episode:{episode.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, episode: Episode):
        return episode.started_at

    def item_author_name(self, episode: Episode) -> str:
        return episode.dj_name

    def item_description(self, episode: Episode) -> str:
        """Who presented it, then its tracklist, one title a line."""
        lines = [f"Presented by {episode.dj_name}."]
        for play in episode.tracklist.all():
            lines.append(f"{clock(play.offset_ms)} {play}")
        return "\n".join(lines)

    def item_enclosures(self, episode: Episode) -> list[Enclosure]:
        return [
            Enclosure(
                url=episode.audio_url,
                length=str(episode.size_bytes),
                mime_type=MIME_TYPE,
            )
        ]

    def item_extra_kwargs(self, episode: Episode) -> dict[str, str]:
        return {"itunes_duration": clock(episode.duration_ms)}


class ShowPodcast(StationPodcast):
    """``/stations/<slug>/shows/<show>/podcast.xml``: one show's episodes."""

    def get_object(self, request: HttpRequest, slug: str, show_slug: str) -> Podcast:
        show = get_object_or_404(
            Show.objects.select_related("station"), station__slug=slug, slug=show_slug
        )
        return Podcast(show.station, show, request)

    def title(self, podcast: Podcast) -> str:
        return f"{podcast.show.name} · {podcast.station.name}"

    def link(self, podcast: Podcast) -> str:
        return reverse("programme:show", args=[podcast.station.slug, podcast.show.slug])

    def description(self, podcast: Podcast) -> str:
        return podcast.show.description or f"{podcast.show.name}, recorded live."

    def feed_extra_kwargs(self, podcast: Podcast) -> dict[str, str]:
        image_url = podcast.show.image_url
        return {
            "itunes_author": podcast.station.name,
            "itunes_image": podcast.request.build_absolute_uri(image_url)
            if image_url
            else "",
        }

    def items(self, podcast: Podcast) -> list[Episode]:
        return with_audio_urls(
            podcast, with_tracklists(show_public_episodes(podcast.show))[:FEED_EPISODES]
        )
