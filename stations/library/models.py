from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from radio.protocol import CROSSFADE_MAX_MS
from stations.files import audio_suffix, generated_name
from stations.models import Station

from .analysis import TAG_MAX_CHARS


def track_upload_to(track: "Track", filename: str) -> str:
    """A new name for a station's track under MEDIA_ROOT; of the uploaded
    name only an audio format's suffix is kept."""
    return generated_name(f"tracks/{track.station_id}", audio_suffix(filename))


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


class Playlist(models.Model):
    """How a station's AutoDJ plays its library, and where it is in it.

    Kept in the database, so that a worker taking over a station carries on
    from the last track picked instead of starting the playlist again. A
    station without a row plays with the defaults below.
    """

    station = models.OneToOneField(
        Station,
        on_delete=models.CASCADE,
        related_name="playlist",
        verbose_name=_("station"),
    )
    shuffle = models.BooleanField(
        _("shuffle"),
        default=False,
        help_text=_(
            "Play the AutoDJ library in random order, every track once before "
            "any repeats, instead of in playlist order."
        ),
    )
    crossfade_ms = models.PositiveIntegerField(
        _("crossfade"),
        default=2000,
        help_text=_("How long the AutoDJ fades one track into the next, in ms."),
        validators=[MinValueValidator(0), MaxValueValidator(CROSSFADE_MAX_MS)],
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
        verbose_name = _("AutoDJ playlist")
        verbose_name_plural = _("AutoDJ playlists")

    def __str__(self) -> str:
        return f"Playlist of {self.station}"
