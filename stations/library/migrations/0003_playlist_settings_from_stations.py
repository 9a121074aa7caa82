# Each station's shuffle and crossfade go to its playlist, made for the
# stations that have none yet; backwards, they go back to the station.
# Kept apart from 0002's schema changes: PostgreSQL refuses to alter a
# table that has pending trigger events in the same transaction.

from django.db import migrations


def settings_to_playlists(apps, schema_editor):
    Station = apps.get_model('stations', 'Station')
    Playlist = apps.get_model('library', 'Playlist')
    playlists = {playlist.station_id: playlist for playlist in Playlist.objects.all()}
    created, changed = [], []
    for station in Station.objects.only('pk', 'shuffle', 'crossfade_ms'):
        playlist = playlists.get(station.pk)
        if playlist is None:
            playlist = Playlist(station_id=station.pk)
            created.append(playlist)
        else:
            changed.append(playlist)
        playlist.shuffle = station.shuffle
        playlist.crossfade_ms = station.crossfade_ms
    Playlist.objects.bulk_create(created)
    Playlist.objects.bulk_update(changed, ['shuffle', 'crossfade_ms'])


def settings_to_stations(apps, schema_editor):
    Station = apps.get_model('stations', 'Station')
    Playlist = apps.get_model('library', 'Playlist')
    for playlist in Playlist.objects.all():
        Station.objects.filter(pk=playlist.station_id).update(
            shuffle=playlist.shuffle, crossfade_ms=playlist.crossfade_ms
        )


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0002_playlist'),
    ]

    operations = [
        migrations.RunPython(settings_to_playlists, settings_to_stations),
    ]
