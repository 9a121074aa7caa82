# The playout cursor becomes the station's playlist, and takes over the
# AutoDJ's settings from the station (copied in 0003, then removed from
# stations.Station by stations 0004).

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0001_initial'),
        ('stations', '0003_station_crossfade_ms_station_shuffle'),
    ]

    operations = [
        migrations.RenameModel(
            old_name='PlayoutCursor',
            new_name='Playlist',
        ),
        migrations.AlterModelOptions(
            name='playlist',
            options={'verbose_name': 'AutoDJ playlist', 'verbose_name_plural': 'AutoDJ playlists'},
        ),
        migrations.AlterField(
            model_name='playlist',
            name='station',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='playlist', to='stations.station', verbose_name='station'),
        ),
        migrations.AddField(
            model_name='playlist',
            name='shuffle',
            field=models.BooleanField(default=False, help_text='Play the AutoDJ library in random order, every track once before any repeats, instead of in playlist order.', verbose_name='shuffle'),
        ),
        migrations.AddField(
            model_name='playlist',
            name='crossfade_ms',
            field=models.PositiveIntegerField(default=2000, help_text='How long the AutoDJ fades one track into the next, in ms.', validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10000)], verbose_name='crossfade'),
        ),
    ]
