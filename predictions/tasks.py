"""Celery tasks: thin wrappers that take ids and call one service. Safe to run twice."""
from celery import shared_task

from predictions import services


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1800, time_limit=1900)
def train_model_version(model_version_id: int) -> None:
    services.model_version_train(model_version_id=model_version_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=600)
def predict_content(content_ids: list[int], model_version_id: int) -> int:
    return services.predictions_create(model_version_id=model_version_id, content_ids=content_ids)


@shared_task(acks_late=True, time_limit=600)
def predict_missing(model_version_id: int) -> int:
    return services.predictions_enqueue_missing(model_version_id=model_version_id)


@shared_task(acks_late=True, time_limit=600)
def predict_all(model_version_id: int) -> int:
    return services.predictions_enqueue_all(model_version_id=model_version_id)


@shared_task
def auto_retrain() -> int | None:
    version = services.auto_retrain_if_due()
    return version.number if version else None


@shared_task(acks_late=True, time_limit=900)
def check_drift() -> int:
    """Periodic (celery beat) and on demand: store one drift check per window."""
    return len(services.drift_checks_run())
