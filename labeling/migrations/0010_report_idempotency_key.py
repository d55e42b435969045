"""Wrong-tag reports remember the idempotency key of the submit that made them (double-clicks make one report)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0009_report_one_open_per_reporter'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='wrongtagreport',
            name='idempotency_key',
            field=models.CharField(blank=True, default='', editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name='wrongtagreport',
            constraint=models.UniqueConstraint(condition=models.Q(('idempotency_key', ''), _negated=True), fields=('content', 'idempotency_key'), name='report_one_per_idempotency_key'),
        ),
    ]
