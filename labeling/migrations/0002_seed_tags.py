from django.db import migrations

from labeling.defaults import DEFAULT_TAGS


def seed_tags(apps, schema_editor):
    Tag = apps.get_model("labeling", "Tag")
    for position, (slug, name) in enumerate(DEFAULT_TAGS, start=1):
        Tag.objects.get_or_create(slug=slug, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("labeling", "0001_initial")]
    operations = [migrations.RunPython(seed_tags, migrations.RunPython.noop)]
