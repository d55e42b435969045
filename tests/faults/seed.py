"""Seed a fault-test database once: ``python -m tests.faults.seed OUT.json`` with DATABASE_URL set.

Migrates, loads the demo data (gold history + untagged stream), trains tfidf-linear in
this process, promotes it, runs the promotion's prediction jobs here (so the seed is a
steady state: no job left for a worker, nothing stalled), trains a second version left
as a candidate (for promotions under fault), and makes an admin account and an
ingestion token. Writes what tests
need to OUT.json. Tests then clone this database (CREATE DATABASE ... TEMPLATE), which
takes a fraction of a second against half a minute for this.
"""

import json
import os
import sys

ADMIN_USERNAME = "faults-admin"
ADMIN_PASSWORD = "faults-admin-password"  # a throwaway account in a throwaway database


def main(out_path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from common.roles import ADMIN, roles_ensure
    from labeling.models import Content
    from labeling.services.tokens import source_token_create
    from predictions.models import Job, JobStatus, ModelVersion
    from predictions.services import model_version_promote, model_version_train
    from predictions.services.jobs import job_run

    call_command("migrate", verbosity=0)
    call_command("load_demo_data", verbosity=0)
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version = model_version_promote(model_version=ModelVersion.objects.get(pk=version.pk))
    for job_id in Job.objects.filter(status=JobStatus.PENDING).values_list("pk", flat=True):
        job_run(job_id=job_id)
    if Job.objects.exclude(status=JobStatus.DONE).exists():
        raise RuntimeError("the seed's jobs did not all finish")
    candidate = ModelVersion.objects.create(number=2, algorithm="tfidf-linear", params={"random_state": 1})
    model_version_train(model_version_id=candidate.pk)
    content_ids = list(Content.objects.order_by("pk").values_list("pk", flat=True))
    _, key = source_token_create(source="faults", name="fault tests")
    roles_ensure()
    admin = get_user_model().objects.create_user(ADMIN_USERNAME, password=ADMIN_PASSWORD)
    admin.groups.add(Group.objects.get(name=ADMIN))
    with open(out_path, "w") as out:
        json.dump(
            {"token": key, "model_version": version.number, "candidate": candidate.number, "content_ids": content_ids},
            out,
        )


if __name__ == "__main__":
    main(sys.argv[1])
