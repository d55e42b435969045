"""Wrong-tag reports from end users, with or without an account."""
import hashlib

from django.conf import settings
from django.db import transaction

from labeling.models import Content, ReportStatus, ReviewReason, Tag, WrongTagReport
from labeling.services.review import PredictionSnapshot, review_task_open


def client_address(request) -> str:
    """The client's address as this server sees it (behind a proxy, configure it to set REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "")


def reporter_hash(client_address: str) -> str:
    salted = f"{settings.TAGLOOP_REPORTER_SALT}\x00{client_address}"
    return hashlib.sha256(salted.encode()).hexdigest()


@transaction.atomic
def report_create(
    *, content: Content, reporter=None, reporter_address: str = "", suggested_tag: Tag | None = None, comment: str = ""
) -> tuple[WrongTagReport, bool]:
    """File a wrong-tag report and put the item in the review queue.

    One open report per reporter and item: a repeat updates the first (returns created=False).
    """
    identity = {"reporter": reporter} if reporter else {"reporter_hash": reporter_hash(reporter_address)}
    report = (
        WrongTagReport.objects.select_for_update()
        .filter(content=content, status=ReportStatus.OPEN, **identity)
        .first()
    )
    created = report is None
    if created:
        snapshot = PredictionSnapshot(
            model_version=content.current_model_version,
            predicted_tag=content.current_tag.slug if content.current_tag_id else "",
            probabilities=content.current_probabilities,
        )
        task = review_task_open(content=content, reason=ReviewReason.REPORT, snapshot=snapshot)
        report = WrongTagReport(
            content=content,
            shown_tag_id=content.current_tag_id,
            shown_model_version=content.current_model_version,
            review_task=task,
            **identity,
        )
    if suggested_tag is not None:
        report.suggested_tag = suggested_tag
    if comment:
        report.comment = comment.strip()[:2000]
    report.save()
    return report, created
