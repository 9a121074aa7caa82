"""What a station's DJs do with its recorded episodes."""

from __future__ import annotations

from django.db import transaction

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


def episode_file_remove_on_commit(instance: Episode, **kwargs: object) -> None:
    """Delete a deleted episode's file once the deletion is committed.

    Connected to ``post_delete`` (see apps.py), so that files also go when
    their station is deleted or the sweeper deletes old episodes.
    """
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
