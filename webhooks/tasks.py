from celery import shared_task

from webhooks.delivery import deliveries_sweep, delivery_attempt


@shared_task(acks_late=True, time_limit=120)
def deliver(delivery_id: int) -> str | None:
    return delivery_attempt(delivery_id)


@shared_task
def sweep() -> int:
    return len(deliveries_sweep())
