"""The machine side: model versions, their training snapshots and their predictions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from labeling.models import Content, Tag


class ModelStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    TRAINING = "training", "training"
    FAILED = "failed", "failed"
    CANDIDATE = "candidate", "candidate"
    ACTIVE = "active", "active"
    RETIRED = "retired", "retired"
    CANCELLED = "cancelled", "cancelled"


RUNNING_STATUSES = (ModelStatus.QUEUED, ModelStatus.TRAINING)


class ModelVersion(models.Model):
    number = models.PositiveIntegerField(unique=True)
    algorithm = models.CharField(max_length=50)
    params = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=ModelStatus.choices, default=ModelStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    # The artifact's name: its file in MODEL_DIR, or (database store) the name in its ModelArtifact row.
    artifact_path = models.CharField(max_length=500, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    # Of the serving form saved beside the artifact (ml.serving_form: what a web process loads without
    # scikit-learn); blank when the version has none (trained before it existed, or a model it cannot describe).
    serving_sha256 = models.CharField(max_length=64, blank=True, default="")
    # The training snapshot: how many gold labels, and a hash of (content, tag) pairs.
    training_label_count = models.PositiveIntegerField(null=True, blank=True)
    training_data_hash = models.CharField(max_length=64, blank=True)
    # Gold labels in this snapshot that the active model at the time had not seen.
    new_label_count = models.PositiveIntegerField(null=True, blank=True)
    holdout_count = models.PositiveIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    # Cross-validation on the train split only (model selection); the holdout is for the record.
    cv_metrics = models.JSONField(default=dict, blank=True)
    # Per-item out-of-distribution checks fitted on this version's training texts (ml.ood).
    ood_checks = models.JSONField(default=dict, blank=True)
    review_threshold = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # At most one active model, enforced by the database, not by hope.
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="model_one_active")
        ]
        permissions = [
            ("train_model", "Can launch a retrain"),
            ("promote_model", "Can promote a model version"),
        ]

    def __str__(self):
        return f"v{self.number} {self.algorithm} ({self.status})"

    @property
    def weighted_f1(self):
        """Weighted F1 on the holdout as it was when this version was trained (``holdout_count`` items)."""
        return (self.metrics or {}).get("overall", {}).get("f1")

    @property
    def holdout_fingerprint(self) -> str | None:
        """Which holdout ``metrics`` were measured on (selectors.holdout_fingerprint); None before it was recorded."""
        return (self.metrics or {}).get("holdout_fingerprint")


class ModelArtifact(models.Model):
    """A version's fitted model in the database (TAGLOOP_MODEL_STORE=database).

    Machines that share only the database and the broker all read it: a model a worker
    trained on one machine serves on the web processes of every other machine.
    """

    model_version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="stored_artifact")
    # Of ``data``, when written; loading checks the bytes against the version's artifact_sha256.
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    data = models.BinaryField()
    # The serving form (ml.serving_form), checked against the version's serving_sha256; null when it has none.
    serving = models.BinaryField(null=True, blank=True)
    # What the local store writes to the JSON sidecar (library versions, metrics, labels).
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"artifact of v{self.model_version_id} ({self.size:,} bytes)"


class TrainingExample(models.Model):
    """One row of a model version's training set, snapshotted when the run starts."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="training_examples")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "content"], name="training_example_unique")]

    def __str__(self) -> str:
        return f"v{self.model_version_id} example: content {self.content_id}"


class Prediction(models.Model):
    # Every prediction a re-prediction writes adds an entry to each index: the keys' own indexes would repeat the
    # first columns of prediction_unique (content) and prediction_version_time (model version), which serve them.
    # The tag has no index either: no query looks predictions up by tag alone, but for the check that refuses to
    # delete a tag some prediction names (an admin's rare act), which reads the table instead. Its entry was
    # 0.4-0.6 us of PostgreSQL's CPU per prediction written (docs/benchmarks.md, "Re-prediction: new rows by COPY
    # and the chunk's fixed costs").
    #
    # The three keys are not checked by PostgreSQL (db_constraint=False). Each checked key fired a trigger per
    # inserted row at commit, a SELECT ... FOR KEY SHARE of the referenced row, and locking the content row also
    # wrote its header again: 11 us of the server's 61 us per item in a second promotion's chunk. What the
    # checks guarded is kept otherwise: the rows are written only by predictions.services.batch, with ids it has
    # just read (the items, the version, the tags by slug); Django's delete collector still deletes an item's or
    # a version's predictions with it (CASCADE) and refuses to delete a tag a prediction names (PROTECT), in
    # Python, as for every deletion the application makes. What is given up: an item deleted while a chunk
    # predicts it may leave that chunk's prediction of it behind (with the check, the chunk failed and ran again).
    # Such a row is no item on any page (a join to its item finds none); it counts once more in its version's
    # figures (drift, progress) until beat's daily sweep deletes it (predictions.services.orphans).
    content = models.ForeignKey(
        Content, on_delete=models.CASCADE, related_name="predictions", db_index=False, db_constraint=False
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions", db_index=False, db_constraint=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    probabilities = models.JSONField()
    confidence = models.FloatField()
    # The content's text_hash when predicted: an item whose text changed since is predicted
    # again. Empty on rows from before this was recorded (taken as current).
    text_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # When this answer was last written, or last put in force by a chunk while its version
    # was the active model (a stored answer is reused, not rewritten, so the chunk touches
    # it). Bounded by a version's active periods, it tells the work of one activation from
    # an earlier one's, or from shadow predictions (see predictions.selectors).
    predicted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content", "model_version"], name="prediction_unique")]
        indexes = [models.Index(fields=["model_version", "predicted_at"], name="prediction_version_time")]

    def __str__(self):
        return f"{self.content_id} -> {self.tag} ({self.confidence:.2f}, v{self.model_version_id})"


class ModelEventAction(models.TextChoices):
    REQUESTED = "requested", "retrain requested"
    CANCELLED = "cancelled", "cancelled"
    PROMOTED = "promoted", "promoted"
    ROLLED_BACK = "rolled_back", "rolled back"
    CANARY_STARTED = "canary_started", "canary started"
    CANARY_ENDED = "canary_ended", "canary ended"
    # A source's effective threshold (predictions.services.trust): by the automation, or an admin's pin.
    THRESHOLD_RAISED = "threshold_raised", "threshold raised"
    THRESHOLD_LOWERED = "threshold_lowered", "threshold lowered"
    THRESHOLD_PINNED = "threshold_pinned", "threshold pinned"
    THRESHOLD_UNPINNED = "threshold_unpinned", "threshold unpinned"
    # An admin turned an emerging topic into a tag (predictions.services.emerging): a class the next
    # retrain learns. The details say which tag, the topic's top terms and how many items went to review.
    TOPIC_TAGGED = "topic_tagged", "emerging topic turned into a tag"


class ModelEvent(models.Model):
    """The audit trail of model changes: who did what, when, from which version to which, and why."""

    action = models.CharField(max_length=20, choices=ModelEventAction.choices)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="events")
    previous_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    # Gate results at promotion time, including any that an override set aside.
    gate_failures = models.JSONField(default=list, blank=True)
    # Threshold changes: the source they apply to, and the evidence (old and new
    # threshold, audits, precision, lower bound). A topic turned into a tag: the tag, the topic's
    # terms, its size and the review tasks opened.
    source = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.action} v{self.model_version.number} by {self.actor or 'system'}"


class ContentEmbedding(models.Model):
    """A sentence embedding of a content item, computed once and reused by every retrain."""

    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    model_name = models.CharField(max_length=100)
    # sha256 of the prepared text: a changed text is re-encoded.
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content", "model_name"], name="content_embedding_unique")]

    def __str__(self) -> str:
        return f"{self.model_name} embedding of content {self.content_id}"


class DriftCheck(models.Model):
    """One window check: a recent window of a source (or all) against the active model's reference."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=100, blank=True, help_text="empty: all sources")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    n = models.PositiveIntegerField()
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    tests = models.JSONField(default=list)
    drifted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"drift check {self.source or 'all sources'} {self.window_start:%Y-%m-%d}..{self.window_end:%Y-%m-%d}"


class Canary(models.Model):
    """A candidate serving a share of predictions beside the active model, before anyone promotes it.

    Which predictions it serves is a hash of the content item (or of the text, for an
    online request about no stored item), so an item stays with the same model for the
    whole canary; a control group of the same size, served by the active model, is
    recorded too (see predictions.services.canary). At most one canary runs at a time; it ends when an admin stops it or
    when any promotion or rollback changes the active model it is compared with.
    """

    candidate = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="canaries")
    baseline = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    share = models.FloatField(help_text="share of content items (and online texts) the candidate serves")
    running = models.BooleanField(default=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name_plural = "canaries"
        constraints = [
            models.UniqueConstraint(fields=["running"], condition=Q(running=True), name="canary_one_running"),
            # At most half: a control group of the same size is served by the active model.
            models.CheckConstraint(condition=Q(share__gt=0) & Q(share__lte=0.5), name="canary_share_in_range"),
        ]

    def __str__(self):
        return f"canary v{self.candidate.number} at {self.share:.0%} beside v{self.baseline.number}"


class CanaryArm(models.TextChoices):
    CANDIDATE = "candidate", "candidate"
    BASELINE = "baseline", "active model"


class CanaryChannel(models.TextChoices):
    STREAM = "stream", "stored content"
    API = "api", "online API"


class CanaryServing(models.Model):
    """Both models' answers for one item (or online text) of a canary or its control group, and which was served."""

    canary = models.ForeignKey(Canary, on_delete=models.CASCADE, related_name="servings")
    # The routing key: "content:<pk>" for stored items, "text:<sha256>" for online texts.
    key = models.CharField(max_length=80)
    content = models.ForeignKey(Content, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=CanaryChannel.choices)
    served = models.CharField(max_length=10, choices=CanaryArm.choices)
    baseline_tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    baseline_confidence = models.FloatField()
    candidate_tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    candidate_confidence = models.FloatField()
    requests = models.PositiveIntegerField(default=1, help_text="online requests about it (0: stream only)")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["canary", "key"], name="canary_serving_unique_key")]

    def __str__(self) -> str:
        return f"canary {self.canary_id} {self.channel} {self.key}"


class JobKind(models.TextChoices):
    TRAIN = "train", "retrain"
    PREDICT = "predict", "prediction chunk"
    DRIFT_CHECK = "drift_check", "drift check"


class JobStatus(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"


UNFINISHED_JOB_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)


class Job(models.Model):
    """A piece of work that must happen, written in the same transaction as its cause.

    The database is the record of pending work; a broker message only wakes a worker.
    A worker claims the job (a fresh ``claim_token``) and keeps ``heartbeat_at`` fresh
    while it runs. A lost message, a killed worker or a flushed broker leaves a job
    pending or running with a stale heartbeat, and the reconciler sends it again
    (predictions.services.reconciler): the work is delayed, never lost.
    """

    kind = models.CharField(max_length=20, choices=JobKind.choices)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    # The items of a prediction chunk.
    content_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # When a message for it last went to the broker; None while none could be sent.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_error = models.TextField(blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    # The worker (celery node name) that holds or last held it, for people reading health.
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The reconciler and health read only unfinished jobs; done ones pile up.
            models.Index(
                fields=["status", "kind"], condition=Q(status__in=["pending", "running"]), name="job_unfinished"
            ),
            models.Index(fields=["model_version", "kind"], name="job_version_kind"),
        ]

    def __str__(self):
        return f"job {self.pk} {self.kind} ({self.status})"


class Lease(models.Model):
    """One row per periodic duty (the reconciler, the automatic retrain, drift checks).

    However many beat processes send the tick, the first to move ``last_run_at`` runs
    it; the others find it taken and do nothing (predictions.services.leases).
    """

    name = models.CharField(max_length=50, primary_key=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} (last run {self.last_run_at})"


class EmergingTopicStatus(models.TextChoices):
    OPEN = "open", "open"
    TAGGED = "tagged", "turned into a tag"


class EmergingTopic(models.Model):
    """A cluster among the items the active model is unsure of or flags (ml.emerging), found on a worker.

    Each refresh replaces the open ones; a topic an admin turned into a tag is kept, with its tag.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    rank = models.PositiveSmallIntegerField()
    top_terms = models.JSONField(default=list)
    # The cluster's items, closest to its centre first (the first few are its examples).
    content_ids = models.JSONField(default=list)
    cohesion = models.FloatField()
    candidates = models.PositiveIntegerField(help_text="unsure or flagged items clustered in that refresh")
    status = models.CharField(max_length=16, choices=EmergingTopicStatus.choices, default=EmergingTopicStatus.OPEN)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "rank", "-created_at"]

    def __str__(self) -> str:
        return f"emerging topic #{self.rank}: {', '.join(self.top_terms[:3])}"

    @property
    def size(self) -> int:
        return len(self.content_ids)


class SourceThreshold(models.Model):
    """The confidence threshold in force for one source's items, when it is not the model's own.

    The automation (predictions.services.trust) raises it when blind audits say the
    active model's auto-accepted items fall short of the promised precision, and lowers it
    again on new evidence; its state belongs to one model version and starts afresh when
    another becomes active. An admin's pin overrides the automation, whatever the version.
    """

    source = models.CharField(max_length=100, unique=True)
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    # The automation's threshold for model_version; None: the model's own.
    threshold = models.FloatField(null=True, blank=True)
    # The share of the source's new items drawn as audit samples; None: TAGLOOP_AUDIT_SHARE.
    audit_share = models.FloatField(null=True, blank=True)
    # The last automatic change: audits decided after it are the new evidence.
    changed_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # The last judgement (ml.trust.Estimate.as_dict of the window at the threshold in force).
    evidence = models.JSONField(default=dict, blank=True)
    pinned_threshold = models.FloatField(null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pinned_at = models.DateTimeField(null=True, blank=True)
    pin_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["source"]
        permissions = [("pin_threshold", "Can pin a source's review threshold")]

    def __str__(self):
        return f"threshold of {self.source or 'unnamed source'}"
