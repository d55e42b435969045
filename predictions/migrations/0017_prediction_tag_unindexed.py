"""The prediction's tag without an index: each prediction written added an entry to it, and no query but the check
before a tag's deletion reads it (predictions.models.Prediction). Dropping an index takes the table's lock briefly;
reversing builds it again.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0023_content_room_for_every_rewrite'),
        ('predictions', '0016_serving_form'),
    ]

    operations = [
        migrations.AlterField(
            model_name='prediction',
            name='tag',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='labeling.tag'),
        ),
    ]
