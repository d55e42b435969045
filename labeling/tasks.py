"""Celery tasks of the human side: thin wrappers around services."""

from celery import shared_task

from labeling.services.review_counts import review_counts_compact


@shared_task
def compact_review_counts() -> int:
    return review_counts_compact()
