"""A partial index of the items whose out-of-distribution flag is in force (why: labeling.models.Content)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0017_reviewtask_statistics'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='content',
            index=models.Index(condition=models.Q(('is_out_of_distribution', True), ('ood_dismissed', False)), fields=['id'], name='content_ood_idx'),
        ),
    ]
