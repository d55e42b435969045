"""The prediction's keys no longer checked by PostgreSQL: a re-prediction writes a row per item, and each checked
key fired a trigger per row (the reasons and what still holds: predictions.models.Prediction).

Reversing adds the checks back; it fails if a prediction names an item, version or tag that is gone.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0017_reviewtask_statistics'),
        ('predictions', '0014_prediction_statistics'),
    ]

    operations = [
        migrations.AlterField(
            model_name='prediction',
            name='content',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='predictions', to='labeling.content'),
        ),
        migrations.AlterField(
            model_name='prediction',
            name='model_version',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='predictions', to='predictions.modelversion'),
        ),
        migrations.AlterField(
            model_name='prediction',
            name='tag',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='labeling.tag'),
        ),
    ]
