from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from .models import MAX_URL_CHARS, Delivery, Webhook
from .selectors import RECENT_DELIVERIES
from .services import WebhookError, webhook_check


class WebhookForm(forms.ModelForm):
    """A webhook refused, as in the studio, for a private target or no secret."""

    url = forms.URLField(
        max_length=MAX_URL_CHARS,
        assume_scheme="https",
        help_text=Webhook._meta.get_field("url").help_text,
    )

    class Meta:
        model = Webhook
        fields = "__all__"
        widgets = {"secret": forms.PasswordInput(render_value=True)}

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors:
            # The instance is filled in only after clean().
            fields = {name: cleaned[name] for name in ("station", "url", "kind")}
            candidate = Webhook(pk=self.instance.pk, secret=cleaned["secret"], **fields)
            try:
                webhook_check(candidate)
            except WebhookError as problem:
                self.add_error(None, str(problem))
        return cleaned


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["station", "kind", "url", "enabled", "created_at"]
    list_filter = ["kind", "enabled", "station"]
    search_fields = ["url", "station__name"]
    readonly_fields = ["created_by", "created_at", "recent_deliveries"]
    autocomplete_fields = ["station"]

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, webhook: Webhook) -> str:
        rows = webhook.deliveries.order_by("-created_at", "-id")[:RECENT_DELIVERIES]
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (d.created_at, d.event, d.status, d.attempts, d.response_status or "",
                 d.error)
                for d in rows
            ),
        )  # fmt: skip
        return format_html(
            "<table><tr><th>created</th><th>event</th><th>status</th>"
            "<th>attempts</th><th>answer</th><th>error</th></tr>{}</table>",
            body,
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read only."""

    list_display = [
        "created_at",
        "webhook",
        "event",
        "status",
        "attempts",
        "response_status",
        "delivered_at",
    ]
    list_filter = ["status", "event", "webhook__kind", "webhook__station"]
    list_select_related = ["webhook", "webhook__station"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
