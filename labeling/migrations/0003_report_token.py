import uuid

from django.db import migrations, models


def fill_tokens(apps, schema_editor):
    WrongTagReport = apps.get_model("labeling", "WrongTagReport")
    for report in WrongTagReport.objects.filter(token__isnull=True).only("pk"):
        report.token = uuid.uuid4()
        report.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [("labeling", "0002_seed_tags")]

    operations = [
        migrations.AddField(model_name="wrongtagreport", name="token", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="wrongtagreport", name="token",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
