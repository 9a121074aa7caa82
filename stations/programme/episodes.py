"""What a station's DJs do with its recorded episodes."""

from __future__ import annotations

from .models import Episode


def episode_update(*, episode: Episode, title: str, published: bool) -> Episode:
    """Rename the episode and publish or hide it."""
    episode.title = title
    episode.published = published
    episode.full_clean()
    episode.save(update_fields=["title", "published"])
    return episode


def episode_delete(*, episode: Episode) -> None:
    """Delete the episode, and its file once that is committed."""
    episode.delete()
