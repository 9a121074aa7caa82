"""Files that belong to rows: they go when their row goes."""

from __future__ import annotations

from django.db import models, transaction
from django.db.models.signals import post_delete


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
