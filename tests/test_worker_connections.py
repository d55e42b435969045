"""A worker keeps its database connection from task to task for as long as CONN_MAX_AGE allows, as web processes do.

Before, Celery's Django fixup closed it after every task, so each re-prediction chunk started a PostgreSQL backend
with cold caches. Each case runs a real worker whose connections carry an application name of their own, runs jobs
on it one after the other, and reads which backends it holds from pg_stat_activity.
"""

import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection

from predictions.models import Job, JobKind, JobStatus, ModelVersion
from predictions.services.jobs import jobs_create
from tests.conftest import _database_url, celery_worker, wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_stat_activity is PostgreSQL's"),
]


def _backends(name: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s", [name])
        return cursor.fetchall()


def _run_job(version: ModelVersion) -> None:
    """A prediction job of no items: it reads the version, the canary and the statistics, and writes its own row."""
    (job,) = jobs_create(kind=JobKind.PREDICT, model_version=version, chunks=[[]])
    wait_until(lambda: Job.objects.get(pk=job.pk).status == JobStatus.DONE, timeout=60, message=f"job {job.pk} done")


def _worker(tmp_path_factory, name: str, max_age: int):
    if not django_settings.REDIS_URL:
        pytest.skip("the worker takes its jobs from Redis here")
    url = f"{_database_url()}?application_name={name}"
    return celery_worker(tmp_path_factory, {"DATABASE_URL": url, "DATABASE_CONN_MAX_AGE": str(max_age)})


def test_a_worker_runs_task_after_task_on_the_same_connection(tmp_path_factory, tags):
    name = f"tagloop-test-{uuid.uuid4().hex[:8]}"
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear")
    with _worker(tmp_path_factory, name, max_age=600) as log:
        _run_job(version)
        first = wait_until(lambda: _backends(name), timeout=10, message="the worker's connection")
        _run_job(version)
        _run_job(version)
        assert _backends(name) == first, log.read_text()[-3000:]
        assert len(first) == 1


def test_with_conn_max_age_0_a_worker_closes_its_connection_after_each_task(tmp_path_factory, tags):
    name = f"tagloop-test-{uuid.uuid4().hex[:8]}"
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear")
    with _worker(tmp_path_factory, name, max_age=0):
        for _ in range(2):
            _run_job(version)
            wait_until(lambda: _backends(name) == [], timeout=10, message="the worker's connection closed")
