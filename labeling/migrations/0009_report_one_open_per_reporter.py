"""One open wrong-tag report per reporter and item, guaranteed by the database.

Simultaneous submits could create several open reports for one reporter before this
(QA saw 3 from 8 parallel requests), so the constraints cannot be added as they are:
each set of duplicates is first merged into its oldest report, as a sequential repeat
would have been, and the others closed as "merged", pointing at it, so that their
status links still lead to the outcome.
"""
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count
from django.utils import timezone

MERGED_NOTE = "Merged into your earlier report on this item, sent at the same moment."


def merge_duplicate_open_reports(apps, schema_editor):
    WrongTagReport = apps.get_model("labeling", "WrongTagReport")
    open_reports = WrongTagReport.objects.filter(status="open")
    by_user = open_reports.filter(reporter__isnull=False)
    by_address = open_reports.filter(reporter__isnull=True).exclude(reporter_hash="")
    for reports, identity in ((by_user, "reporter"), (by_address, "reporter_hash")):
        duplicated = reports.values("content", identity).annotate(n=Count("pk")).filter(n__gt=1)
        for group in duplicated:
            same = reports.filter(content=group["content"], **{identity: group[identity]})
            _merge(list(same.order_by("created_at", "pk")))
    if schema_editor.connection.vendor == "postgresql":
        # merged_into's foreign key is checked at commit; PostgreSQL refuses to build the
        # unique indexes below while those checks are pending, so run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _merge(reports) -> None:
    keeper, *duplicates = reports
    now = timezone.now()
    for duplicate in duplicates:
        # Later submits win, as when a sequential repeat updates the first report.
        if duplicate.suggested_tag_id is not None:
            keeper.suggested_tag_id = duplicate.suggested_tag_id
        if duplicate.comment:
            keeper.comment = duplicate.comment
        duplicate.status, duplicate.merged_into, duplicate.resolved_at = "merged", keeper, now
        duplicate.resolution = MERGED_NOTE
        duplicate.save(update_fields=["status", "merged_into", "resolved_at", "resolution"])
    keeper.save(update_fields=["suggested_tag", "comment"])


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0008_content_created_on_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='wrongtagreport',
            name='merged_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=models.SET_NULL, related_name='+', to='labeling.wrongtagreport'),
        ),
        migrations.AlterField(
            model_name='wrongtagreport',
            name='status',
            field=models.CharField(choices=[('open', 'open'), ('accepted', 'accepted'), ('rejected', 'rejected'), ('merged', 'merged')], default='open', max_length=10),
        ),
        migrations.RunPython(merge_duplicate_open_reports, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='wrongtagreport',
            constraint=models.UniqueConstraint(condition=models.Q(('reporter__isnull', False), ('status', 'open')), fields=('content', 'reporter'), name='report_one_open_per_user'),
        ),
        migrations.AddConstraint(
            model_name='wrongtagreport',
            constraint=models.UniqueConstraint(condition=models.Q(('reporter__isnull', True), ('status', 'open'), models.Q(('reporter_hash', ''), _negated=True)), fields=('content', 'reporter_hash'), name='report_one_open_per_anonymous'),
        ),
    ]
