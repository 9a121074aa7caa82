from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from radio.protocol import INBOX_MAX_CLIENT_ID_CHARS, INBOX_MAX_TEXT_CHARS


class InboxMessage(models.Model):
    """A private message from one user to another (``/ws/inbox/``)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("message")
        SHOUTOUT = "shoutout", _("shoutout")
        # From a station itself, such as "your request is playing".
        NOTICE = "notice", _("notice")

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        on_delete=models.CASCADE,
        related_name="inbox_sent",
        null=True,
        blank=True,
        help_text=_("None for a station's notice."),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="inbox_received",
    )
    text = models.TextField(_("text"), max_length=INBOX_MAX_TEXT_CHARS)
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.MESSAGE
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "The station a shoutout (by one of its DJs) or a notice is sent from."
        ),
    )
    hidden = models.BooleanField(
        _("hidden"),
        default=False,
        help_text=_(
            "Sent while the recipient had blocked the sender: never delivered."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    client_id = models.CharField(
        _("client id"),
        max_length=INBOX_MAX_CLIENT_ID_CHARS,
        null=True,
        blank=True,
        help_text=_(
            "Chosen by the sender's client for this message, so that a retry is "
            "stored once."
        ),
    )

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="listeners_inbox_client_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sender or self.station} → {self.recipient}: {self.text[:50]}"


class Block(models.Model):
    """``blocker`` receives no inbox messages from ``blocked``."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("blocker"),
        on_delete=models.CASCADE,
        related_name="inbox_blocks",
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("blocked"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(
                fields=["blocker", "blocked"], name="listeners_block_unique_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blocks {self.blocked}"


API_KEY_NAME_MAX_CHARS = 100
API_KEY_PREFIX_CHARS = 8
# Every key starts ``radio_``, so that secret scanners can recognise one.
API_KEY_START = "radio"


class ApiKey(models.Model):
    """A user's personal key for the API (``Authorization: Bearer``).

    Only a hash of the key is stored: see :mod:`listeners.api_keys`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    name = models.CharField(
        _("name"),
        max_length=API_KEY_NAME_MAX_CHARS,
        help_text=_("What the key is for."),
    )
    prefix = models.CharField(
        _("prefix"),
        max_length=API_KEY_PREFIX_CHARS,
        db_index=True,
        help_text=_("The start of the key, public, to recognise it by."),
    )
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.name} ({self.hint})"

    @property
    def hint(self) -> str:
        """The key as far as it may be shown: its public start."""
        return f"{API_KEY_START}_{self.prefix}_…"
