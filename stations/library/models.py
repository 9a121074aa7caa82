from django.db import models
from django.utils.translation import gettext_lazy as _

from stations.models import Station

from .analysis import TAG_MAX_CHARS


def track_upload_to(track: "Track", filename: str) -> str:
    """Where a station's track files go under MEDIA_ROOT."""
    return f"tracks/{track.station_id}/{filename}"


class Track(models.Model):
    """An audio file in a station's AutoDJ library, measured when it was added."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="tracks",
        verbose_name=_("station"),
    )
    file = models.FileField(_("file"), upload_to=track_upload_to, max_length=255)
    title = models.CharField(_("title"), max_length=TAG_MAX_CHARS)
    artist = models.CharField(_("artist"), max_length=TAG_MAX_CHARS, blank=True)
    duration_ms = models.PositiveIntegerField(
        _("duration"), help_text=_("How long the decoded audio lasts, in ms.")
    )
    loudness_lufs = models.FloatField(
        _("loudness"),
        help_text=_("Integrated loudness (EBU R128), in LUFS."),
    )
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Place in the playlist, lowest first.")
    )
    shuffle_round = models.PositiveIntegerField(
        _("shuffle round"),
        default=0,
        editable=False,
        help_text=_("The last shuffle round that played this track."),
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("track")
        verbose_name_plural = _("tracks")
        ordering = ["station", "position", "id"]
        indexes = [
            models.Index(
                fields=["station", "position", "id"], name="library_track_order_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artist} - {self.title}" if self.artist else self.title


class PlayoutCursor(models.Model):
    """Where a station's AutoDJ is in its library.

    Kept in the database, so that a worker taking over a station carries on
    from the last track picked instead of starting the playlist again.
    """

    station = models.OneToOneField(
        Station,
        on_delete=models.CASCADE,
        related_name="playout_cursor",
        verbose_name=_("station"),
    )
    last_track = models.ForeignKey(
        Track,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last track"),
    )
    # The last track's position when it was picked: the playlist goes on
    # from there if that track is deleted. None before the first pick.
    last_position = models.PositiveIntegerField(
        _("last position"), null=True, blank=True
    )
    # Tracks whose shuffle_round is lower are still in this round's bag.
    shuffle_round = models.PositiveIntegerField(_("shuffle round"), default=1)

    class Meta:
        verbose_name = _("playout cursor")
        verbose_name_plural = _("playout cursors")

    def __str__(self) -> str:
        return f"Playout cursor of {self.station}"
