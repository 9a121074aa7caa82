"""A station's programme: its shows and their slots, the recorded episodes,
and the history of everything it played."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from radio.protocol import MAX_TITLE_CHARS
from stations.files import generated_name, image_suffix
from stations.models import Station

# The longest slot: a show may run through the night, not for days.
MAX_SLOT_MINUTES = 24 * 60
# Podcast apps want 1400 to 3000 pixels square; a good JPEG of that is < 1 MB.
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def validate_image_size(image) -> None:
    if image.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            _("An image may be at most %(mb)d MB."),
            params={"mb": MAX_IMAGE_BYTES // (1024 * 1024)},
        )


def validate_image_content(image) -> None:
    """A JPEG, PNG or WebP by its bytes, whatever its name says."""
    if image_suffix(image) is None:
        raise ValidationError(_("The image must be a JPEG, PNG or WebP file."))


def show_image_upload_to(show: "Show", filename: str) -> str:
    """A new name for the show's image, with the suffix its bytes call for
    (so it is served with their type)."""
    return generated_name(f"shows/{show.station_id}", image_suffix(show.image) or "")


def episode_upload_to(episode: "Episode", filename: str) -> str:
    return f"recordings/{episode.station_id}/{filename}"


class Show(models.Model):
    """A programme of a station, hosted by some of its DJs."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="shows",
        verbose_name=_("station"),
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    image = models.FileField(
        _("image"),
        upload_to=show_image_upload_to,
        blank=True,
        max_length=255,
        validators=[validate_image_content, validate_image_size],
        help_text=_("Square JPEG or PNG, 1400 to 3000 pixels: the podcast's artwork."),
    )
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="hosted_shows",
        verbose_name=_("hosts"),
        blank=True,
        help_text=_("DJs of the station who present the show."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("show")
        verbose_name_plural = _("shows")
        ordering = ["station", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "slug"], name="programme_show_unique_slug"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programme:show", args=[self.station.slug, self.slug])

    @property
    def image_url(self) -> str:
        """Where the show's image is served; empty if it has none."""
        if not self.image:
            return ""
        return reverse("programme:show_image", args=[self.station.slug, self.slug])


class Slot(models.Model):
    """When a show is on: every week at a local time, or once.

    A weekly slot keeps its local start time (in the station's time zone)
    across daylight-saving changes; a one-off slot is a fixed instant.
    """

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("weekly")
        ONCE = "once", _("once")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    show = models.ForeignKey(
        Show, on_delete=models.CASCADE, related_name="slots", verbose_name=_("show")
    )
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, null=True, blank=True
    )
    start_time = models.TimeField(
        _("local start time"),
        null=True,
        blank=True,
        help_text=_("Weekly slots: the start, in the station's time zone."),
    )
    starts_at = models.DateTimeField(
        _("starts at"), null=True, blank=True, help_text=_("One-off slots: the start.")
    )
    duration_minutes = models.PositiveIntegerField(
        _("minutes"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLOT_MINUTES)],
    )

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["show", "kind", "weekday", "start_time", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="weekly",
                        weekday__isnull=False,
                        start_time__isnull=False,
                        starts_at__isnull=True,
                    )
                    | Q(
                        kind="once",
                        weekday__isnull=True,
                        start_time__isnull=True,
                        starts_at__isnull=False,
                    )
                ),
                name="programme_slot_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.WEEKLY:
            return f"{self.show}: {self.get_weekday_display()} {self.start_time:%H:%M}"
        return f"{self.show}: {self.starts_at:%Y-%m-%d %H:%M}"


class Episode(models.Model):
    """One recorded live broadcast: the station's output while a DJ was live.

    Made when the broadcast starts (``ended_at`` empty while it records) and
    finished when it ends, or by the sweeper when the worker recording it
    died (``recording.py``).
    """

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="episodes",
        verbose_name=_("station"),
    )
    show = models.ForeignKey(
        Show,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="episodes",
        verbose_name=_("show"),
    )
    dj = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="episodes",
        verbose_name=_("DJ"),
    )
    dj_name = models.CharField(_("DJ's name"), max_length=150)
    title = models.CharField(_("title"), max_length=MAX_TITLE_CHARS)
    file = models.FileField(_("file"), upload_to=episode_upload_to, max_length=255)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(_("duration"), default=0)
    size_bytes = models.PositiveBigIntegerField(_("size"), default=0)
    published = models.BooleanField(
        _("published"), default=True, help_text=_("Listed in the archive and podcast.")
    )
    cut_short = models.BooleanField(
        _("cut short"),
        default=False,
        editable=False,
        help_text=_("The disk filled up: the recording ended before the broadcast."),
    )
    # Who records it (the broadcast's lease token) and when it last wrote:
    # a recording nobody has written to for a while lost its worker.
    recorder = models.CharField(max_length=64, blank=True, editable=False)
    recorded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("episode")
        verbose_name_plural = _("episodes")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["station", "-started_at"], name="programme_episode_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Play(models.Model):
    """Something a station played: a track of the AutoDJ, a DJ's title, an
    encoder's metadata. The play history, and an episode's tracklist."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="plays",
        verbose_name=_("station"),
    )
    title = models.CharField(_("title"), max_length=MAX_TITLE_CHARS, blank=True)
    artist = models.CharField(_("artist"), max_length=MAX_TITLE_CHARS, blank=True)
    # ``now_playing``'s source: "live" or "autodj".
    source = models.CharField(_("source"), max_length=16)
    dj_name = models.CharField(_("DJ's name"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("started"))
    # The station's audio packet it starts with (``now_playing``'s ``seq``).
    seq = models.BigIntegerField(null=True, blank=True, editable=False)
    listeners = models.PositiveIntegerField(
        _("listeners"), default=0, help_text=_("How many listened when it started.")
    )
    show = models.ForeignKey(
        Show,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plays",
        verbose_name=_("show"),
    )
    episode = models.ForeignKey(
        Episode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tracklist",
        verbose_name=_("episode"),
    )
    offset_ms = models.PositiveBigIntegerField(
        _("offset"),
        null=True,
        blank=True,
        help_text=_("Where it starts in the episode."),
    )

    class Meta:
        verbose_name = _("play")
        verbose_name_plural = _("play history")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["station", "-started_at"], name="programme_play_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artist} - {self.title}" if self.artist else self.title
