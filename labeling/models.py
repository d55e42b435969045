"""The human side of tagloop: content, the tag set, gold labels, reviews and reports.

Nothing here knows about models or predictions beyond what is copied onto the rows
(a model version *number*, a probability snapshot), so ``labeling`` never imports
``predictions``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Tag(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    # Order on screen, and the number key that picks the tag in the review UI.
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # The guideline annotators and end users read: what the tag means, and items it fits.
    definition = models.TextField(blank=True, help_text="what the tag means, in a sentence or two")
    examples = models.TextField(blank=True, help_text="one example per line: a title that fits, or one that does not")

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self):
        return self.slug

    @property
    def example_lines(self) -> list[str]:
        return [line.strip() for line in self.examples.splitlines() if line.strip()]


class TagOrigin(models.TextChoices):
    NONE = "none", "none"
    MODEL = "model", "model"
    GOLD = "gold", "gold"


class Content(models.Model):
    source = models.CharField(max_length=100, default="import")
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=1000)
    description = models.TextField(blank=True)
    # The public list's order (content_public_order_idx, which also serves a range of dates: no index of its own).
    created_on = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField(default=timezone.now, db_index=True)
    # sha256 of the normalised text, to find the same item arriving twice: looked up by equality only, so one plain
    # index (content_text_hash_idx), not also the LIKE index Django adds for a CharField's db_index.
    text_hash = models.CharField(max_length=64)
    is_out_of_distribution = models.BooleanField(default=False)
    # Why the per-item checks flagged it (check name -> reason), and whether an admin
    # has marked the flag as a false alarm.
    ood_reasons = models.JSONField(default=dict, blank=True)
    ood_dismissed = models.BooleanField(default=False)
    # What public pages show, written by labeling services only (no joins needed). A re-prediction rewrites these
    # columns on every row, so none of them is in an index of this table: then, with the free room the table's
    # fillfactor leaves on each page (migration 0016), every such rewrite is in place (a HOT update, no index
    # touched), whether the tag changes or stays. The order within a tag is ContentTagOrder's, kept by PostgreSQL.
    current_tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    current_tag_origin = models.CharField(max_length=10, choices=TagOrigin.choices, default=TagOrigin.NONE)
    current_tag_confidence = models.FloatField(null=True, blank=True)
    current_model_version = models.PositiveIntegerField(null=True, blank=True)
    current_probabilities = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="content_unique_source_id")]
        # The public list's order: its first pages read 50 index entries, not the table (within a tag:
        # ContentTagOrder's index).
        indexes = [
            models.Index(fields=["-created_on", "-id"], name="content_public_order_idx"),
            # The few items whose out-of-distribution flag is in force. Each re-prediction chunk clears the flag of
            # the items its checks now pass, among 2,000 ids: without it that read the whole table (3.5 us of the
            # server's CPU per item at 20,000 items). A re-prediction changes neither column, so its rewrites of
            # the shown tag stay in place (HOT).
            models.Index(
                fields=["id"], condition=Q(is_out_of_distribution=True, ood_dismissed=False), name="content_ood_idx"
            ),
            models.Index(fields=["text_hash"], name="content_text_hash_idx"),
        ]
        permissions = [("import_content", "Can import content files")]

    def __str__(self):
        return f"{self.source}:{self.external_id} {self.title[:60]}"


class ContentTagOrder(models.Model):
    """Each item's shown tag and date, for the public order within a tag; read-only here: PostgreSQL keeps it.

    A row per item, written by triggers on ``labeling_content`` (migration 0020) in the transaction of every insert
    and of every update that changes ``current_tag_id`` or ``created_on``, whatever makes it (services, the admin,
    imports, ``bulk_create``, undo, raw SQL); deleting an item deletes its row (``ON DELETE CASCADE``). So the
    content table needs no index on its shown tag, and a re-prediction rewrites every item in place (HOT).
    Untagged items are here too (``tag`` NULL), for the "untagged" filter. On SQLite the table exists but stays
    empty: the selectors filter content itself there (``tag_order_kept``).
    """

    content = models.OneToOneField(
        Content, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="tag_order"
    )
    tag = models.ForeignKey(
        Tag, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    created_on = models.DateTimeField(null=True)

    class Meta:
        db_table = "labeling_content_tag_order"
        # The public order within a tag (NULL: untagged), as content_public_order_idx's within all items.
        indexes = [models.Index(fields=["tag", "-created_on", "-content"], name="content_tag_order_idx")]

    def __str__(self):
        return f"{self.content_id}: {self.tag_id} {self.created_on}"


class Provenance(models.TextChoices):
    IMPORTED = "imported", "imported"
    ANNOTATOR = "annotator", "annotator"
    REPORT = "report", "report"
    # Set by a reviewer through the REST API (labeling/api/gold.py).
    API = "api", "api"


class Split(models.TextChoices):
    TRAIN = "train", "train"
    HOLDOUT = "holdout", "holdout"


class GoldLabel(models.Model):
    content = models.OneToOneField(Content, on_delete=models.CASCADE, related_name="gold_label")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="gold_labels")
    provenance = models.CharField(max_length=20, choices=Provenance.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    # Assigned once, when the label is first created, and never moved afterwards.
    split = models.CharField(max_length=10, choices=Split.choices, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        permissions = [
            ("export_goldlabel", "Can export gold labels"),
            ("requeue_goldlabel", "Can send gold labels back to review"),
        ]

    def __str__(self):
        return f"{self.content_id}: {self.tag} ({self.provenance}, {self.split})"


class ReviewReason(models.TextChoices):
    # Where each reason ranks in the queue: the table above PRIORITY_BASE in labeling/services/review_queue.py.
    LOW_CONFIDENCE = "low_confidence", "low confidence"
    REPORT = "report", "wrong-tag report"
    AUDIT_SAMPLE = "audit_sample", "audit sample"
    SUSPECT_LABEL = "suspect_label", "suspect label"
    DISAGREEMENT = "disagreement", "disagreement"
    OUT_OF_DISTRIBUTION = "out_of_distribution", "out of distribution"
    REQUEUED = "requeued", "re-review requested"
    EMERGING_TOPIC = "emerging_topic", "emerging topic"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "open"
    DONE = "done", "done"
    CANCELLED = "cancelled", "cancelled"


class ReviewTask(models.Model):
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="review_tasks")
    reason = models.CharField(max_length=30, choices=ReviewReason.choices)
    # Higher first: reports, then the most uncertain predictions, then audit samples.
    priority = models.FloatField(default=0.0)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Audit samples go to several annotators, blind; the others need one answer.
    required_answers = models.PositiveSmallIntegerField(default=1)
    # Snapshot of the prediction that opened the task, so the review UI needs no
    # access to the predictions app.
    model_version = models.PositiveIntegerField(null=True, blank=True)
    predicted_tag = models.CharField(max_length=64, blank=True)
    probabilities = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Partial indexes on open tasks only (the answered history grows without bound): the queue's order, the
        # same within one reason (the queue's reason filter), and the leases, so "next item" reads a handful of
        # index entries instead of sorting every open task or every task a person ever held.
        indexes = [
            models.Index(
                fields=["-priority", "created_at", "id"], condition=Q(status="open"), name="review_open_order_idx"
            ),
            models.Index(
                fields=["reason", "-priority", "created_at", "id"],
                condition=Q(status="open"),
                name="review_open_reason_order_idx",
            ),
            models.Index(
                fields=["assignee"], condition=Q(status="open", assignee__isnull=False), name="review_open_held_idx"
            ),
            # Open tasks waiting for several answers: the only ones an annotator may have answered already. What the
            # queue page's filters need is in the index (keys, not INCLUDE: SQLite has none), so finding those an
            # annotator answered reads no table.
            models.Index(
                fields=["id", "reason", "predicted_tag", "content"],
                condition=Q(status="open", required_answers__gt=1),
                name="review_open_multi_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["content", "reason"],
                condition=Q(status="open"),
                name="review_one_open_task_per_reason",
            )
        ]
        permissions = [
            ("review_content", "Can review content in the queue"),
            ("adjudicate", "Can adjudicate disagreements between annotators"),
            ("view_quality", "Can see annotator agreement and throughput"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.reason} for content {self.content_id} ({self.status})"


class ReviewQueueCount(models.Model):
    """Open review tasks counted by (reason, predicted tag, source): signed changes, summed when read.

    Written only by PostgreSQL triggers on ``labeling_reviewtask`` (migration 0015), in the transaction that
    changes the tasks, so a count is exact for whatever wrote them (the ORM, set-based SQL, COPY). Each
    statement appends rows instead of updating one row per key, so concurrent writers (annotators, the
    re-prediction's workers) never wait on each other for a counter; ``review_counts_compact`` folds the
    rows back into one per key. On SQLite the table stays empty and the queue is counted directly.
    """

    reason = models.CharField(max_length=30)
    predicted_tag = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=100)
    n = models.BigIntegerField()

    def __str__(self):
        return f"{self.reason}/{self.predicted_tag}/{self.source}: {self.n:+d}"


class Annotation(models.Model):
    """One annotator's answer for one content item, kept even when it loses."""

    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="annotations")
    review_task = models.ForeignKey(
        ReviewTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # What the answer changed, so that "undo" can put it back exactly.
    undo_state = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # Why the answer was given, when the person said (a change made from the gold browser).
    note = models.TextField(blank=True)

    class Meta:
        # A person's standing answers, by task (which open audits they answered already) and newest first (what
        # they may undo, their history panel, their answers today): an annotator's years of answers are never read.
        indexes = [
            models.Index(
                fields=["annotator", "review_task"],
                condition=Q(undone_at__isnull=True, review_task__isnull=False),
                name="annotation_standing_idx",
            ),
            models.Index(
                fields=["annotator", "-created_at", "-id"],
                condition=Q(undone_at__isnull=True),
                name="annotation_recent_idx",
            ),
        ]

    def __str__(self):
        return f"{self.annotator} says {self.tag} for {self.content_id}"


class ReportStatus(models.TextChoices):
    OPEN = "open", "open"
    ACCEPTED = "accepted", "accepted"
    REJECTED = "rejected", "rejected"
    # A duplicate of an earlier open report by the same reporter (see ``merged_into``).
    MERGED = "merged", "merged"


class WrongTagReport(models.Model):
    # Unguessable id for the reporter's status link (they may have no account).
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="reports")
    shown_tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shown_model_version = models.PositiveIntegerField(null=True, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Salted hash of an anonymous reporter's address: enough to merge repeats, not to identify.
    reporter_hash = models.CharField(max_length=64, blank=True)
    suggested_tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    review_task = models.ForeignKey(
        ReviewTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set on a duplicate left by a double submit (before the constraints below existed):
    # its status link shows the report it was merged into.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A salted hash of the submit's idempotency key (the report form's hidden token, or an
    # API client's Idempotency-Key header) and its sender: a repeat of that submit finds
    # this report, even from a first-time visitor whose double-click sent two sessions.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # One open report per reporter and item, even for simultaneous submits: a signed-in
        # reporter is the user, an anonymous one the address hash. A report whose user was
        # deleted has neither and is left out.
        constraints = [
            models.UniqueConstraint(
                fields=["content", "reporter"],
                condition=Q(status="open", reporter__isnull=False),
                name="report_one_open_per_user",
            ),
            models.UniqueConstraint(
                fields=["content", "reporter_hash"],
                condition=Q(status="open", reporter__isnull=True) & ~Q(reporter_hash=""),
                name="report_one_open_per_anonymous",
            ),
            # Whatever its status: a submit repeated after its report was closed makes no new one.
            models.UniqueConstraint(
                fields=["content", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="report_one_per_idempotency_key",
            ),
        ]

    def __str__(self):
        return f"report #{self.pk} on {self.content_id} ({self.status})"


class SourceToken(models.Model):
    """A per-source API key for streaming ingestion. Only a hash of the key is stored."""

    source = models.CharField(max_length=100, db_index=True)
    name = models.CharField(max_length=100, blank=True, help_text="who or what uses it")
    key_prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.source} {self.key_prefix}… ({'revoked' if self.revoked_at else 'active'})"


class ApiToken(models.Model):
    """A person's API key: requests with it act as that user, with that user's permissions.

    Only the sha256 of the key is stored, beside its first characters (``key_prefix``),
    which find the row and tell a user's keys apart on their page.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the key is for, e.g. the script that uses it")
    key_prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.user} {self.name} {self.key_prefix}… ({'revoked' if self.revoked_at else 'active'})"
