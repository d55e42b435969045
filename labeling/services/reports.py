"""Wrong-tag reports from end users, with or without an account."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from labeling.models import Content, ReportStatus, ReviewReason, Tag, TagOrigin, WrongTagReport
from labeling.services.review_queue import PredictionSnapshot, review_task_open


def reporter_hash(client_address: str) -> str:
    salted = f"{settings.TAGLOOP_REPORTER_SALT}\x00{client_address}"
    return hashlib.sha256(salted.encode()).hexdigest()


def _identity(reporter: User | None, reporter_address: str, reporter_browser: str) -> dict:
    """How reports know their reporter: the account when signed in, else a hash of the
    browser's key when the report comes from one (people behind one address, as in an
    office, are different reporters), else a hash of the address (API clients)."""
    if reporter:
        return {"reporter": reporter}
    return {"reporter_hash": reporter_hash(f"browser:{reporter_browser}" if reporter_browser else reporter_address)}


def suggestion_check(*, content: Content, suggested_tag: Tag | None) -> None:
    """A suggested tag must differ from the tag shown: the review would only "reject" it."""
    if suggested_tag is not None and suggested_tag.pk == content.current_tag_id:
        raise ValidationError(
            f'"{suggested_tag.slug}" is the tag shown now: suggest a different tag, or none if you don\'t know.',
            code="same_as_shown",
        )


def report_of_reporter(*, content: Content, reporter: User | None = None, tokens=()) -> WrongTagReport | None:
    """The reporter's latest report on the item, for a link to its status (duplicates merged away left out).

    A signed-in reporter is known by account. An anonymous one only by the status
    tokens this browser was given: people behind one address (an office, a phone
    network) share a reporter hash, and must not see each other's reports.
    """
    reports = WrongTagReport.objects.filter(content=content).exclude(status=ReportStatus.MERGED)
    reports = reports.filter(reporter=reporter) if reporter else reports.filter(token__in=list(tokens))
    return reports.order_by("-created_at", "-pk").first()


MAX_IDEMPOTENCY_KEY_LENGTH = 255


def idempotency_key_hash(*, key: str, reporter: User | None = None, reporter_address: str = "") -> str:
    """What a report stores of a submit's idempotency key: "" without one.

    Hashed with the sender (the account, else the address): an API client choosing a
    short key like "1" cannot land on another client's report by choosing it too.
    """
    if not key:
        return ""
    sender = f"user:{reporter.pk}" if reporter else f"address:{reporter_address}"
    return reporter_hash(f"idempotency\x00{sender}\x00{key}")


@transaction.atomic
def report_create(
    *,
    content: Content,
    reporter: User | None = None,
    reporter_address: str = "",
    reporter_browser: str = "",
    suggested_tag: Tag | None = None,
    comment: str = "",
    idempotency_key: str = "",
) -> tuple[WrongTagReport, bool]:
    """File a wrong-tag report and put the item in the review queue.

    One open report per reporter and item: a repeat, even one sent at the same moment
    as the first, updates the first (returns created=False).

    A submit repeated with its idempotency key (a double-click on the form, an API
    client's retry) is answered like the first, created=True, and changes nothing. It
    matters most for a first-time visitor: the two clicks of a double-click carry no
    session yet, so they are two browsers to the rule above.
    """
    suggestion_check(content=content, suggested_tag=suggested_tag)
    identity = _identity(reporter, reporter_address, reporter_browser)
    key = idempotency_key_hash(key=idempotency_key, reporter=reporter, reporter_address=reporter_address)
    repeated = _keyed_report(content, key)
    if repeated is not None:
        return repeated, True
    report = _open_report(content, identity)
    if report is None:
        report, created = _report_insert_or_join(content, identity, key, suggested_tag, comment)
        if created is not None:
            return report, created
    _report_update(report, suggested_tag, comment)
    report.save(update_fields=["suggested_tag", "comment"])
    return report, False


def _keyed_report(content: Content, key: str) -> WrongTagReport | None:
    if not key:
        return None
    return WrongTagReport.objects.filter(content=content, idempotency_key=key).first()


def _open_report(content: Content, identity: dict) -> WrongTagReport | None:
    return (
        WrongTagReport.objects.select_for_update().filter(content=content, status=ReportStatus.OPEN, **identity).first()
    )


def _report_new(content: Content, identity: dict) -> WrongTagReport:
    snapshot = PredictionSnapshot(
        model_version=content.current_model_version,
        predicted_tag=content.current_tag.slug if content.current_tag is not None else "",
        probabilities=content.current_probabilities,
    )
    task = review_task_open(content=content, reason=ReviewReason.REPORT, snapshot=snapshot)
    return WrongTagReport(
        content=content,
        shown_tag_id=content.current_tag_id,
        shown_model_version=_shown_model_version(content),
        review_task=task,
        **identity,
    )


def _shown_model_version(content: Content) -> int | None:
    # A tag a person set keeps the last model's number on the item: the report is not that model's doing.
    return content.current_model_version if content.current_tag_origin == TagOrigin.MODEL else None


def _report_update(report: WrongTagReport, suggested_tag: Tag | None, comment: str) -> None:
    if suggested_tag is not None:
        report.suggested_tag = suggested_tag
    if comment:
        report.comment = comment.strip()[:2000]


def _report_insert_or_join(
    content: Content, identity: dict, key: str, suggested_tag: Tag | None, comment: str
) -> tuple[WrongTagReport, bool | None]:
    """Insert the reporter's report, or find the one a simultaneous submit inserted first.

    The read before this cannot see (or lock) a report another transaction has not
    committed yet: the unique constraints (one open report per reporter, one report per
    idempotency key) settle that race. Returns created=True for a new report or a
    repeat of the same submit, None for the reporter's other open report (to update).
    """
    report = _report_new(content, identity)
    report.idempotency_key = key
    _report_update(report, suggested_tag, comment)
    try:
        with transaction.atomic():  # a savepoint: the conflict must not abort the caller's transaction
            report.save(force_insert=True)
        return report, True
    except IntegrityError:
        # The other insert has committed (PostgreSQL waited for it), so it is visible now.
        repeated = _keyed_report(content, key)
        if repeated is not None:
            return repeated, True
        existing = _open_report(content, identity)
        if existing is None:
            raise
        return existing, None
