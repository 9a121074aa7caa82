from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from stations.admin import StationAdmin
from stations.models import Station

from .analysis import UnusableAudio
from .models import Playlist, Track
from .services import track_add, track_audio_check


class TrackAddForm(forms.ModelForm):
    """Upload a file; title, artist, duration and loudness come from it."""

    class Meta:
        model = Track
        fields = ["station", "file"]

    def clean(self):
        cleaned_data = super().clean()
        upload = cleaned_data.get("file")
        if upload:
            try:
                self.audio = track_audio_check(upload)
            except UnusableAudio as problem:
                self.add_error("file", str(problem))
        return cleaned_data


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    """Tracks are added by upload and checked as in the DJ console."""

    list_display = [
        "title",
        "artist",
        "station",
        "position",
        "duration_ms",
        "loudness_lufs",
        "added_at",
    ]
    list_filter = ["station"]
    list_select_related = ["station"]
    search_fields = ["title", "artist", "station__slug", "station__name"]
    date_hierarchy = "added_at"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TrackAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["station", "file"]
        return [
            "station",
            "title",
            "artist",
            "position",
            "file",
            "duration_ms",
            "loudness_lufs",
            "added_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["station", "file", "duration_ms", "loudness_lufs", "added_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        track = track_add(
            station=obj.station, upload=form.cleaned_data["file"], info=form.audio
        )
        # The admin goes on with the object its form built: make it the
        # track that was stored.
        obj.pk = track.pk
        obj.refresh_from_db()


class PlaylistInline(admin.StackedInline):
    """The AutoDJ's settings, on the station's page; where it is stays hidden."""

    model = Playlist
    fields = ["shuffle", "crossfade_ms"]
    can_delete = False
    max_num = 1


# The station core knows nothing of the library: the library adds its
# settings to the station's admin, as contrib apps extend UserAdmin.
admin.site.unregister(Station)


@admin.register(Station)
class StationWithPlaylistAdmin(StationAdmin):
    list_display = [*StationAdmin.list_display, "shuffle", "crossfade_ms"]
    list_select_related = ["playlist"]
    inlines = [*StationAdmin.inlines, PlaylistInline]

    @admin.display(description=_("shuffle"), boolean=True)
    def shuffle(self, station: Station) -> bool:
        return _playlist(station).shuffle

    @admin.display(description=_("crossfade (ms)"))
    def crossfade_ms(self, station: Station) -> int:
        return _playlist(station).crossfade_ms


def _playlist(station: Station) -> Playlist:
    """The playlist fetched with the station, or the defaults if it has none."""
    return getattr(station, "playlist", None) or Playlist(station=station)
