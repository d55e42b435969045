import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def from_created_at(apps, schema_editor):
    # The upsert refreshed created_at on every (re)write: the best record of when each
    # existing answer was made.
    apps.get_model("predictions", "Prediction").objects.update(predicted_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0009_report_one_open_per_reporter'),
        ('predictions', '0005_canary_plural'),
    ]

    operations = [
        migrations.AddField(
            model_name='prediction',
            name='predicted_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(from_created_at, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='prediction',
            index=models.Index(fields=['model_version', 'predicted_at'], name='prediction_version_time'),
        ),
    ]
