from django import forms
from django.contrib import admin, messages

from .models import ChatMessage, Station, StationMute
from .services import chat_message_delete


class StationForm(forms.ModelForm):
    """The station, with its source password write-only: the hash never shows."""

    new_source_password = forms.CharField(
        label="New source password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text='For encoders logging in as user "source". Leave empty to keep '
        "the current one.",
    )
    clear_source_password = forms.BooleanField(
        label="Remove the source password",
        required=False,
        help_text='Then user "source" may not log in; DJs still may.',
    )

    class Meta:
        model = Station
        exclude = ["source_password"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("new_source_password") and cleaned.get("clear_source_password"):
            raise forms.ValidationError(
                "Either type a new source password or remove it, not both."
            )
        return cleaned

    def save(self, commit: bool = True) -> Station:
        station = super().save(commit=False)
        if self.cleaned_data["clear_source_password"]:
            station.set_source_password(None)
        elif self.cleaned_data["new_source_password"]:
            station.set_source_password(self.cleaned_data["new_source_password"])
        if commit:
            station.save()
            self.save_m2m()
        return station


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    form = StationForm
    list_display = [
        "name",
        "slug",
        "bitrate",
        "timezone",
        "slots_enforced",
        "record_broadcasts",
        "max_listeners",
        "has_source_password",
        "created_at",
    ]
    list_filter = ["slots_enforced", "record_broadcasts"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["djs"]

    @admin.display(boolean=True, description="source password")
    def has_source_password(self, station: Station) -> bool:
        return bool(station.source_password)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "station", "user", "text", "deleted_at"]
    list_filter = ["station", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "user__username", "station__slug", "station__name"]
    list_select_related = ["station", "user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    actions = ["remove_from_chat"]

    @admin.action(description="Remove selected messages from the chat")
    def remove_from_chat(self, request, queryset):
        """Delete as a DJ would, so that listeners see them go at once."""
        for message in queryset.select_related("station"):
            chat_message_delete(
                station=message.station, actor=request.user, message_id=message.pk
            )
        self.message_user(
            request, f"Removed {queryset.count()} messages.", messages.SUCCESS
        )


@admin.register(StationMute)
class StationMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "station", "muted_by", "created_at"]
    list_filter = ["station"]
    search_fields = ["user__username", "station__slug", "station__name"]
    list_select_related = ["station", "user", "muted_by"]
    raw_id_fields = ["user", "muted_by"]
