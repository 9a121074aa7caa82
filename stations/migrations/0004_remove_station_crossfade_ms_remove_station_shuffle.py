# The AutoDJ's settings now live on library.Playlist, which library 0003
# copied them to (and copies them back from, backwards).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('stations', '0003_station_crossfade_ms_station_shuffle'),
        ('library', '0003_playlist_settings_from_stations'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='station',
            name='crossfade_ms',
        ),
        migrations.RemoveField(
            model_name='station',
            name='shuffle',
        ),
    ]
