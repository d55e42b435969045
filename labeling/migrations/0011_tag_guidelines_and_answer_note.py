from django.db import migrations, models

from labeling.defaults import DEFAULT_GUIDELINES


def seed_guidelines(apps, schema_editor):
    """The default tags start with a guideline; a tag an admin already described keeps theirs."""
    Tag = apps.get_model("labeling", "Tag")
    for slug, (definition, examples) in DEFAULT_GUIDELINES.items():
        Tag.objects.filter(slug=slug, definition="").update(definition=definition, examples=examples)


class Migration(migrations.Migration):
    dependencies = [("labeling", "0010_report_idempotency_key")]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="note",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="tag",
            name="definition",
            field=models.TextField(blank=True, help_text="what the tag means, in a sentence or two"),
        ),
        migrations.AddField(
            model_name="tag",
            name="examples",
            field=models.TextField(
                blank=True, help_text="one example per line: a title that fits, or one that does not"
            ),
        ),
        migrations.RunPython(seed_guidelines, migrations.RunPython.noop),
    ]
