"""Files that belong to rows: stored under names the server makes, whole
or not at all, and gone when their row goes."""

from __future__ import annotations

import errno
import uuid
from pathlib import PurePath

from django.core.files import File
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models.signals import post_delete

# Audio suffixes kept on a track's stored name: ffmpeg reads formats without a
# header (AAC) better with theirs. Any other suffix is dropped.
AUDIO_SUFFIXES = frozenset(
    {".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".wav", ".webm"}
)
# The images a show may have, by their first bytes, with their stored suffix.
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"RIFF", ".webp"),  # and "WEBP" at byte 8
)


class DiskFull(OSError):
    """MEDIA_ROOT has no room left: nothing of the file was kept."""


def generated_name(folder: str, suffix: str = "") -> str:
    """A new name under ``folder`` that no upload chose: never a path, a
    script's name or another file's."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def audio_suffix(uploaded_name: str) -> str:
    """The uploaded name's suffix if it is an audio format's, else none."""
    suffix = PurePath(uploaded_name).suffix.lower()
    return suffix if suffix in AUDIO_SUFFIXES else ""


def image_suffix(file: File) -> str | None:
    """``.jpg``, ``.png`` or ``.webp`` by what the file's bytes are, or None."""
    file.seek(0)
    head = file.read(12)
    file.seek(0)
    for signature, suffix in IMAGE_SIGNATURES:
        if head.startswith(signature) and (suffix != ".webp" or head[8:12] == b"WEBP"):
            return suffix
    return None


def save_whole(storage: Storage, name: str, content: File) -> str:
    """Save ``content`` as ``name`` (a ``generated_name``), or nothing.

    A write that fails half way (the disk is full) leaves a partial file,
    which is removed; a full disk raises DiskFull.
    """
    try:
        return storage.save(name, content)
    except BaseException as problem:
        storage.delete(name)
        if isinstance(problem, OSError) and problem.errno == errno.ENOSPC:
            raise DiskFull(errno.ENOSPC, "No room left for the file") from problem
        raise


def delete_files_with(model: type[models.Model], *fields: str) -> None:
    """Delete the files in ``fields`` of a deleted ``model`` row once its
    deletion is committed.

    On ``post_delete`` rather than in a service, so that the files also go
    when a row goes by cascade (its station deleted) or in bulk (the
    recordings' retention). A rolled-back deletion keeps its files.
    """

    def delete_files(instance: models.Model, **kwargs: object) -> None:
        for field in fields:
            file = getattr(instance, field)
            if file.name:
                transaction.on_commit(
                    lambda name=file.name, storage=file.storage: storage.delete(name)
                )

    post_delete.connect(
        delete_files,
        sender=model,
        weak=False,
        dispatch_uid=f"{model._meta.label}.delete_files_with",
    )
