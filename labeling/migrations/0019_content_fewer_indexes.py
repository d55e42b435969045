"""Two indexes fewer on content: each rewrite of an item that cannot be in place (its shown tag changes, as on a
first promotion) adds an entry to every index of the table, 3 us of the server's CPU per item for each of these.

- ``created_on``'s own index repeats the first column of ``content_public_order_idx`` (created_on DESC, id DESC),
  which serves the same orders and ranges;
- ``text_hash`` is looked up by equality only: its ``varchar_pattern_ops`` twin (made by Django for LIKE on
  PostgreSQL) goes; the plain index is made again under a name the model declares (seconds at a million items,
  inside the migration's transaction).

Reversing makes both again.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("labeling", "0018_content_ood_index")]

    operations = [
        migrations.AlterField(
            model_name="content", name="created_on", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AlterField(model_name="content", name="text_hash", field=models.CharField(max_length=64)),
        migrations.AddIndex(
            model_name="content", index=models.Index(fields=["text_hash"], name="content_text_hash_idx")
        ),
    ]
