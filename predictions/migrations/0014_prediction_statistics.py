"""No planner statistics for the prediction columns no query filters or joins on (PostgreSQL only).

A re-prediction ANALYZEs this table every tenth of its size (common/table_statistics.py), a few dozen times on
the way to 100,000 predictions; sampling the probabilities (jsonb) and text hashes was half of each ANALYZE
(204 -> 94 ms on a 200,000-row table). SET STATISTICS 0 makes ANALYZE skip a column.
"""

from django.db import migrations

COLUMNS = ("probabilities", "text_hash")


def _set_statistics(target: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in COLUMNS:
            schema_editor.execute(f"ALTER TABLE predictions_prediction ALTER COLUMN {column} SET STATISTICS {target}")

    return run


class Migration(migrations.Migration):
    dependencies = [("predictions", "0013_prediction_key_indexes_covered")]

    operations = [migrations.RunPython(_set_statistics(0), _set_statistics(-1))]
