# The database backend of the model store (predictions.artifact_store).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0008_job_claimed_by'),
    ]

    operations = [
        migrations.CreateModel(
            name='ModelArtifact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sha256', models.CharField(max_length=64)),
                ('size', models.PositiveBigIntegerField()),
                ('data', models.BinaryField()),
                ('metadata', models.JSONField(default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('model_version', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='stored_artifact', to='predictions.modelversion')),
            ],
        ),
    ]
