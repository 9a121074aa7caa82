from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Station(models.Model):
    """A room with one stream of audio that all its listeners hear."""

    class Bitrate(models.IntegerChoices):
        KBPS_64 = 64, "64 kbit/s"
        KBPS_96 = 96, "96 kbit/s"
        KBPS_128 = 128, "128 kbit/s"
        KBPS_192 = 192, "192 kbit/s"
        KBPS_256 = 256, "256 kbit/s"
        KBPS_320 = 320, "320 kbit/s"

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    bitrate = models.PositiveIntegerField(
        _("bitrate"),
        choices=Bitrate.choices,
        default=Bitrate.KBPS_128,
        help_text=_("MP3 bitrate of the station's output, in kbit/s."),
        validators=[MinValueValidator(32), MaxValueValidator(320)],
    )
    djs = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("DJs"),
        related_name="dj_stations",
        blank=True,
        help_text=_("Users who may broadcast on this station."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("stations:listen", kwargs={"slug": self.slug})
