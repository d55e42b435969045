"""Streaming ingestion: store a validated batch for one source, all or nothing.

Each item is created, updated (same source and id, changed text or date) or a
duplicate: the same source and id unchanged, or the same text already stored under any
source, answered with the stored item's id. New and changed items are announced with
``content_ingested`` (the machine side predicts them after commit).
"""

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from labeling.models import Content
from labeling.parsing import ContentRow
from labeling.services.content import BATCH_SIZE, text_hash
from labeling.signals import content_ingested

CREATED, UPDATED, DUPLICATE = "created", "updated", "duplicate"


@dataclass(frozen=True)
class IngestResult:
    index: int
    id: int
    status: str


def content_ingest(*, rows: list[ContentRow], source: str) -> list[IngestResult]:
    """Store ``rows`` (``row.line`` is the item's index in the request) for ``source``.

    One transaction: either every item is stored or none is. A concurrent request that
    inserted the same (source, id) first makes ours retry once, and then see its row.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _ingest(rows, source)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _ingest(rows: list[ContentRow], source: str) -> list[IngestResult]:
    by_external_id = {
        content.external_id: content
        for content in Content.objects.filter(source=source, external_id__in=[row.external_id for row in rows])
    }
    hashes = {row.line: text_hash(row.title, row.description) for row in rows}
    _lock_texts(set(hashes.values()))
    by_hash: dict[str, Content] = {}
    # Oldest first, so the first stored copy of a text is the one answered.
    for stored in Content.objects.filter(text_hash__in=set(hashes.values())).order_by("-pk"):
        by_hash[stored.text_hash] = stored
    outcome: list[tuple[int, Content, str]] = []
    to_create: list[Content] = []
    to_update: dict[int, Content] = {}
    for row in rows:
        digest = hashes[row.line]
        content = by_external_id.get(row.external_id)
        if content is not None:
            if _apply_row(content, row, digest):
                to_update[content.pk] = content
                outcome.append((row.line, content, UPDATED))
            else:
                outcome.append((row.line, content, DUPLICATE))
        elif digest in by_hash:
            outcome.append((row.line, by_hash[digest], DUPLICATE))
        else:
            content = Content(
                source=source,
                external_id=row.external_id,
                title=row.title,
                description=row.description,
                created_on=row.created_on,
                text_hash=digest,
            )
            to_create.append(content)
            by_external_id[row.external_id] = by_hash[digest] = content
            outcome.append((row.line, content, CREATED))
    Content.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Content.objects.bulk_update(
        list(to_update.values()),
        ["title", "description", "created_on", "text_hash", "is_out_of_distribution", "ood_reasons", "ood_dismissed"],
        batch_size=BATCH_SIZE,
    )
    changed_ids = [content.pk for content in to_create] + list(to_update)
    if changed_ids:
        content_ingested.send(sender=Content, content_ids=changed_ids)
    return [IngestResult(index=index, id=content.pk, status=status) for index, content, status in outcome]


def _lock_texts(digests: set[str]) -> None:
    """Make concurrent batches carrying the same text take turns, so only one stores it.

    Nothing in the schema forbids two items with the same text (a re-imported file may
    hold true duplicates), so PostgreSQL advisory locks keyed by the text hash do it,
    held until the transaction ends. Taken in one sorted statement, so two batches never
    wait on each other in opposite orders. SQLite needs none: its transactions here are
    IMMEDIATE, so they run one at a time (see config/settings/base.py).
    """
    if connection.vendor != "postgresql" or not digests:
        return
    keys = sorted(int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True) for digest in digests)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(key) FROM (SELECT unnest(%s::bigint[]) AS key ORDER BY 1) AS sorted",
            [keys],
        )


def _apply_row(content: Content, row: ContentRow, digest: str) -> bool:
    new = {"title": row.title, "description": row.description, "created_on": row.created_on}
    if all(getattr(content, name) == value for name, value in new.items()):
        return False
    for name, value in new.items():
        setattr(content, name, value)
    content.text_hash = digest
    # A new text deserves a new look from the out-of-distribution checks.
    content.is_out_of_distribution, content.ood_reasons, content.ood_dismissed = False, {}, False
    return True
