"""The review tasks' user foreign keys indexed only where they are set.

Every task a re-prediction opens (72% of a first promotion's items in the benchmark) and every open task a later
promotion re-ranks (its priority is a key of the queue's indexes, so the rewrite is not in place) added an entry for
"nobody" to the full indexes Django makes for ``assignee`` and ``resolved_by``: two of the table's nine indexes, for
tasks nobody holds or answered. Partial indexes (``IS NOT NULL``) serve what the full ones did: a user's deletion
(``SET NULL`` looks the user's tasks up) and a person's own tasks.

Only the indexes change: Django's own ``AlterField(db_index=False)`` would also drop and re-check both foreign keys,
reading every task under lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The indexes Django made for the two foreign keys (its names for them, the same on every database).
FULL_INDEXES = {
    "labeling_reviewtask_assignee_id_97a09417": "assignee_id",
    "labeling_reviewtask_resolved_by_id_e275de2a": "resolved_by_id",
}


def _user_key(**options) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
        **options,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0023_content_room_for_every_rewrite"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="reviewtask", name="assignee", field=_user_key(db_index=False)),
                migrations.AlterField(model_name="reviewtask", name="resolved_by", field=_user_key(db_index=False)),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX IF NOT EXISTS {name} ON labeling_reviewtask ({column})",
                )
                for name, column in FULL_INDEXES.items()
            ],
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                condition=models.Q(("assignee__isnull", False)), fields=["assignee"], name="review_assignee_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                condition=models.Q(("resolved_by__isnull", False)), fields=["resolved_by"], name="review_resolved_by_idx"
            ),
        ),
    ]
