"""Worker processes keep their long-lived objects out of full garbage collections (common.gc_freeze)."""

import gc
import weakref

import pytest
from celery.signals import worker_process_init

from common.gc_freeze import freeze_long_lived
from predictions.models import ModelVersion


class _Cycle:
    def __init__(self):
        self.me = self


def test_the_objects_alive_are_frozen_and_later_garbage_is_still_collected():
    try:
        frozen = freeze_long_lived()
        assert frozen > 10_000  # Django, the apps and the test modules
        # Still frozen after the call; a frozen object is still freed when its last reference goes, which another
        # thread of the test process may do meanwhile (CI once saw one fewer), so not an exact count.
        assert frozen * 0.99 <= gc.get_freeze_count() <= frozen
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        del cycle
        assert alive() is not None  # a cycle: only the collector frees it
        gc.collect()
        assert alive() is None  # made after the freeze, collected as before
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_every_pool_process_of_a_worker_warms_then_freezes_once_it_has_started():
    import config.celery  # noqa: F401 -- connects the receiver

    receivers = [getattr(ref(), "__name__", "") for _, ref in worker_process_init.receivers]
    assert "_warm_and_freeze" in receivers


@pytest.mark.django_db(transaction=True)
def test_a_warmed_worker_process_has_the_active_model_loaded(tags):
    from predictions.model_store import _loaded, forget_loaded_models
    from predictions.services.batch import warm_worker_process
    from tests.factories import make_active_model

    version = make_active_model(tags)
    forget_loaded_models()
    warm_worker_process()
    assert _loaded.keys() == [(version.number, version.artifact_sha256)]
    forget_loaded_models()
    ModelVersion.objects.all().delete()
    warm_worker_process()  # no active version: nothing to load, no error
    assert _loaded.keys() == []


def test_a_pool_process_may_take_longer_than_celerys_default_to_warm_up():
    from config.celery import app

    # The warm-up loads a model before the process reports ready; Celery's default (4 s) would kill a slow one.
    assert app.conf.worker_proc_alive_timeout >= 30


WARM_WITHOUT_A_MODEL = """
import json, sys
import django
django.setup()
from predictions.model_store import _loaded
from predictions.services.batch import warm_worker_process
heavy = ("sklearn", "skops.io", "scipy", "ml.compiled")
before = [m for m in heavy if m in sys.modules]
warm_worker_process()
print(json.dumps({"before": before, "after": [m for m in heavy if m in sys.modules], "loaded": len(_loaded.keys())}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_started_before_any_promotion_imports_the_model_stack_before_it_freezes(tags):
    """Else the first promotion's chunks import it (over a second of CPU) and its objects are never frozen."""
    import json
    import os
    import subprocess
    import sys

    from django.db import connection

    from tests.conftest import REPO

    assert not ModelVersion.objects.filter(status="active").exists()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development", "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-c", WARM_WITHOUT_A_MODEL], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"before": [], "after": ["sklearn", "skops.io", "scipy", "ml.compiled"], "loaded": 0}
