"""Write parsed rows (labeling.parsing): create or update content and imported gold labels, idempotently."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from labeling.models import Content, GoldLabel, Provenance, Tag
from labeling.parsing import ContentRow, RowError
from labeling.services.content import BATCH_SIZE, show_gold_tags, text_hash
from labeling.services.splits import assign_splits
from labeling.signals import content_ingested


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

    @property
    def accepted(self) -> int:
        """Rows that passed validation (and are now stored as given)."""
        return self.created + self.updated + self.unchanged

    def as_line(self) -> str:
        if self.refused:
            return (
                f"rejected {self.rejected}, so none of the {self.held_back} valid row(s) was imported (all or nothing)"
            )
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected} (gold labels added or changed: {self.labelled})"
        )


@transaction.atomic
def content_import(
    *, rows: list[ContentRow], source: str, errors: list[RowError] = (), strict: bool = False
) -> ImportSummary:
    """Create or update content and imported gold labels; idempotent for the same rows.

    A re-import never overwrites a label that a human decided (annotator or report).
    With ``strict``, any rejected row (``errors``) means nothing is written (``refused``).
    """
    summary = ImportSummary(rejected=len(errors), errors=list(errors))
    if strict and errors:
        summary.refused, summary.held_back = True, len(rows)
        return summary
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    existing = _existing_content(source, [row.external_id for row in rows])
    to_create, to_update, changed_ids = [], [], []
    for row in rows:
        content = existing.get(row.external_id)
        if content is None:
            to_create.append(_new_content(row, source))
        elif _apply_row(content, row):
            to_update.append(content)
        else:
            summary.unchanged += 1
    Content.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Content.objects.bulk_update(to_update, ["title", "description", "created_on", "text_hash"], batch_size=BATCH_SIZE)
    summary.created, summary.updated = len(to_create), len(to_update)
    changed_ids = [content.pk for content in (*to_create, *to_update)]
    by_external_id = {**existing, **{content.external_id: content for content in to_create}}
    labelled = [(by_external_id[row.external_id], tags[row.tag]) for row in rows if row.tag]
    summary.labelled = _import_gold_labels(labelled)
    summary.content_ids = changed_ids
    if changed_ids:
        content_ingested.send(sender=Content, content_ids=changed_ids)
    return summary


def _existing_content(source: str, external_ids: list[str]) -> dict[str, Content]:
    found = {}
    for start in range(0, len(external_ids), BATCH_SIZE):
        chunk = external_ids[start : start + BATCH_SIZE]
        for content in Content.objects.filter(source=source, external_id__in=chunk):
            found[content.external_id] = content
    return found


def _new_content(row: ContentRow, source: str) -> Content:
    return Content(
        source=source,
        external_id=row.external_id,
        title=row.title,
        description=row.description,
        created_on=row.created_on,
        text_hash=text_hash(row.title, row.description),
    )


def _apply_row(content: Content, row: ContentRow) -> bool:
    new = {"title": row.title, "description": row.description, "created_on": row.created_on}
    if all(getattr(content, name) == value for name, value in new.items()):
        return False
    for name, value in new.items():
        setattr(content, name, value)
    content.text_hash = text_hash(row.title, row.description)
    return True


def _import_gold_labels(labelled: list[tuple[Content, Tag]]) -> int:
    gold = {
        label.content_id: label for label in GoldLabel.objects.filter(content__in=[content for content, _ in labelled])
    }
    new, changed = [], []
    for content, tag in labelled:
        label = gold.get(content.pk)
        if label is None:
            new.append((content, tag))
        elif label.provenance == Provenance.IMPORTED and label.tag_id != tag.pk:
            label.tag, label.version, label.decided_at = tag, label.version + 1, timezone.now()
            changed.append(label)
    splits = assign_splits(new)
    created = [
        GoldLabel(content=content, tag=tag, provenance=Provenance.IMPORTED, split=splits[content.pk])
        for content, tag in new
    ]
    GoldLabel.objects.bulk_create(created, batch_size=BATCH_SIZE)
    GoldLabel.objects.bulk_update(changed, ["tag", "version", "decided_at"], batch_size=BATCH_SIZE)
    show_gold_tags([(label.content_id, label.tag_id) for label in (*created, *changed)])
    return len(created) + len(changed)
