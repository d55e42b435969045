"""Seed a fault-test database once: ``python -m tests.faults.seed OUT.json`` with DATABASE_URL set.

Migrates, loads the demo data (gold history + untagged stream), trains tfidf-linear in
this process, promotes it, predicts every item with it here (so the seed is a steady
state: nothing left for a worker to do) and makes an ingestion token. Writes what tests
need to OUT.json. Tests then clone this database (CREATE DATABASE ... TEMPLATE), which
takes a fraction of a second against half a minute for this.
"""
import json
import os
import sys


def main(out_path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from labeling.models import Content
    from labeling.services.tokens import source_token_create
    from predictions.models import ModelVersion
    from predictions.services import model_version_promote, model_version_train, predictions_create

    call_command("migrate", verbosity=0)
    call_command("load_demo_data", verbosity=0)
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version = model_version_promote(model_version=ModelVersion.objects.get(pk=version.pk))
    content_ids = list(Content.objects.order_by("pk").values_list("pk", flat=True))
    predictions_create(model_version_id=version.pk, content_ids=content_ids)
    _, key = source_token_create(source="faults", name="fault tests")
    with open(out_path, "w") as out:
        json.dump({"token": key, "model_version": version.number, "content_ids": content_ids}, out)


if __name__ == "__main__":
    main(sys.argv[1])
