from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('stations', '0004_remove_station_crossfade_ms_remove_station_shuffle'),
    ]

    operations = [
        migrations.AddField(
            model_name='station',
            name='source_password',
            field=models.CharField(blank=True, help_text='Hashed. Encoders (BUTT, Mixxx, ffmpeg) may send audio as user "source" with it; blank: they may not.', max_length=128, verbose_name='source password'),
        ),
    ]
