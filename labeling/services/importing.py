"""Write parsed rows (labeling.parsing): create or update content and imported gold labels, idempotently.

The import is planned first (:func:`content_import_plan`, reads only) and then applied
(:func:`content_import`), so a dry run shows exactly what the real import would change.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from labeling.models import Content, GoldLabel, Provenance, ReviewReason, Tag
from labeling.parsing import AnswerRow, ContentRow, RowError
from labeling.services.content import BATCH_SIZE, show_gold_tags, text_hash
from labeling.services.imported_answers import AnswersPlan, answers_import, answers_plan
from labeling.services.review_queue import review_task_open
from labeling.services.splits import assign_splits
from labeling.signals import content_ingested

CONTENT_FIELDS = ("title", "description", "created_on")


@dataclass
class ImportPlan:
    """What importing the rows would change; built from reads only."""

    new: list[ContentRow] = field(default_factory=list)
    changed: list[tuple[Content, ContentRow, list[str]]] = field(default_factory=list)  # (item, row, fields)
    unchanged: int = 0
    gold_new: list[tuple[str, str]] = field(default_factory=list)  # (external id, tag)
    gold_changed: list[tuple[str, str, str]] = field(default_factory=list)  # (external id, old tag, new tag)
    gold_kept: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, kept tag, file's tag, provenance)
    disputed: list[str] = field(default_factory=list)  # no gold label yet, annotators disagree: to adjudicate
    answers: AnswersPlan = field(default_factory=AnswersPlan)
    existing: dict[str, Content] = field(default_factory=dict)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    labelled: int = 0
    errors: list[RowError] = field(default_factory=list)
    content_ids: list[int] = field(default_factory=list)
    # A strict import with rejected rows writes nothing; these valid rows were held back.
    refused: bool = False
    held_back: int = 0
    answers_added: int = 0
    answers_changed: int = 0
    accounts_created: int = 0
    disagreements: int = 0

    @property
    def accepted(self) -> int:
        """Rows that passed validation (and are now stored as given)."""
        return self.created + self.updated + self.unchanged

    def as_line(self) -> str:
        if self.refused:
            return (
                f"rejected {self.rejected}, so none of the {self.held_back} valid row(s) was imported (all or nothing)"
            )
        line = (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected} (gold labels added or changed: {self.labelled})"
        )
        if self.answers_added or self.answers_changed or self.disagreements:
            line += (
                f"; annotators' answers added {self.answers_added}, changed {self.answers_changed} "
                f"(new inactive accounts: {self.accounts_created}); "
                f"disagreements sent to a reviewer: {self.disagreements}"
            )
        return line


def content_import_plan(
    *, rows: list[ContentRow], source: str, answers: Sequence[AnswerRow] = (), disputed: Sequence[str] = ()
) -> ImportPlan:
    """What :func:`content_import` would do with these rows; writes nothing."""
    plan = ImportPlan(existing=_existing_content(source, [row.external_id for row in rows]))
    for row in rows:
        content = plan.existing.get(row.external_id)
        if content is None:
            plan.new.append(row)
        elif changed := _changed_fields(content, row):
            plan.changed.append((content, row, changed))
        else:
            plan.unchanged += 1
    _plan_gold(plan, rows)
    gold_ids = {label.content_id for label in _gold_of(plan.existing.values())}
    plan.disputed = [
        external_id
        for external_id in disputed
        if external_id not in plan.existing or plan.existing[external_id].pk not in gold_ids
    ]
    plan.answers = answers_plan(answers, plan.existing)
    return plan


@transaction.atomic
def content_import(
    *,
    rows: list[ContentRow],
    source: str,
    errors: Sequence[RowError] = (),
    strict: bool = False,
    answers: Sequence[AnswerRow] = (),
    disputed: Sequence[str] = (),
) -> ImportSummary:
    """Create or update content and imported gold labels; idempotent for the same rows.

    A re-import never overwrites a label that a human decided (annotator or report).
    With ``strict``, any rejected row (``errors``) means nothing is written (``refused``).
    ``answers`` (other tools' per-annotator answers) become Annotation rows; ``disputed`` items
    (annotators disagree, no gold label) get a disagreement task for a reviewer.
    """
    summary = ImportSummary(rejected=len(errors), errors=list(errors))
    if strict and errors:
        summary.refused, summary.held_back = True, len(rows)
        return summary
    plan = content_import_plan(rows=rows, source=source, answers=answers, disputed=disputed)
    to_create = [_new_content(row, source) for row in plan.new]
    to_update = [_apply_row(content, row) for content, row, _ in plan.changed]
    Content.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Content.objects.bulk_update(to_update, [*CONTENT_FIELDS, "text_hash"], batch_size=BATCH_SIZE)
    summary.created, summary.updated, summary.unchanged = len(to_create), len(to_update), plan.unchanged
    by_external_id = {**plan.existing, **{content.external_id: content for content in to_create}}
    summary.labelled = _write_gold_labels(plan, by_external_id)
    result = answers_import(plan.answers, by_external_id)
    summary.answers_added, summary.answers_changed, summary.accounts_created = result
    for external_id in plan.disputed:
        review_task_open(content=by_external_id[external_id], reason=ReviewReason.DISAGREEMENT)
    summary.disagreements = len(plan.disputed)
    summary.content_ids = [content.pk for content in (*to_create, *to_update)]
    if summary.content_ids:
        content_ingested.send(sender=Content, content_ids=summary.content_ids)
    return summary


def _existing_content(source: str, external_ids: list[str]) -> dict[str, Content]:
    found = {}
    for start in range(0, len(external_ids), BATCH_SIZE):
        chunk = external_ids[start : start + BATCH_SIZE]
        for content in Content.objects.filter(source=source, external_id__in=chunk):
            found[content.external_id] = content
    return found


def _gold_of(contents) -> list[GoldLabel]:
    contents = list(contents)
    labels: list[GoldLabel] = []
    for start in range(0, len(contents), BATCH_SIZE):
        chunk = contents[start : start + BATCH_SIZE]
        labels.extend(GoldLabel.objects.filter(content__in=chunk).select_related("tag"))
    return labels


def _new_content(row: ContentRow, source: str) -> Content:
    return Content(
        source=source,
        external_id=row.external_id,
        title=row.title,
        description=row.description,
        created_on=row.created_on,
        text_hash=text_hash(row.title, row.description),
    )


def _changed_fields(content: Content, row: ContentRow) -> list[str]:
    return [name for name in CONTENT_FIELDS if getattr(content, name) != getattr(row, name)]


def _apply_row(content: Content, row: ContentRow) -> Content:
    for name in CONTENT_FIELDS:
        setattr(content, name, getattr(row, name))
    content.text_hash = text_hash(row.title, row.description)
    return content


def _plan_gold(plan: ImportPlan, rows: list[ContentRow]) -> None:
    gold = {label.content_id: label for label in _gold_of(plan.existing.values())}
    for row in rows:
        if not row.tag:
            continue
        content = plan.existing.get(row.external_id)
        label = gold.get(content.pk) if content else None
        if label is None:
            plan.gold_new.append((row.external_id, row.tag))
        elif label.tag.slug == row.tag:
            continue
        elif label.provenance == Provenance.IMPORTED:
            plan.gold_changed.append((row.external_id, label.tag.slug, row.tag))
        else:
            plan.gold_kept.append((row.external_id, label.tag.slug, row.tag, label.provenance))


def _write_gold_labels(plan: ImportPlan, contents: dict[str, Content]) -> int:
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    new = [(contents[external_id], tags[tag]) for external_id, tag in plan.gold_new]
    splits = assign_splits(new)
    created = [
        GoldLabel(content=content, tag=tag, provenance=Provenance.IMPORTED, split=splits[content.pk])
        for content, tag in new
    ]
    changed_tags = {contents[external_id].pk: tags[tag] for external_id, _, tag in plan.gold_changed}
    changed = list(GoldLabel.objects.filter(content_id__in=list(changed_tags)))
    for label in changed:
        label.tag, label.version, label.decided_at = changed_tags[label.content_id], label.version + 1, timezone.now()
    GoldLabel.objects.bulk_create(created, batch_size=BATCH_SIZE)
    GoldLabel.objects.bulk_update(changed, ["tag", "version", "decided_at"], batch_size=BATCH_SIZE)
    show_gold_tags([(label.content_id, label.tag_id) for label in (*created, *changed)])
    return len(created) + len(changed)
