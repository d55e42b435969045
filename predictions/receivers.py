"""The machine side listens to the human side; the reverse import never happens."""

from django.db import transaction
from django.dispatch import receiver

from labeling.models import ReviewReason
from labeling.signals import content_ingested, gold_label_decided
from predictions.services import content_enqueue_prediction
from predictions.services.trust import trust_check


@receiver(content_ingested)
def predict_ingested_content(sender, content_ids, **kwargs):
    content_enqueue_prediction(content_ids=content_ids)


@receiver(gold_label_decided)
def check_trust_after_audit(sender, content_id, source, reason, **kwargs):
    """An answered audit is new evidence: judge its source once the answer is committed.

    Cheap (one source's window of audits) and with no broker on the way, so it runs in the
    answering process; ``robust``: a failure is logged and never touches the answer. The
    beat task checks every source anyway.
    """
    if reason in (ReviewReason.AUDIT_SAMPLE, ReviewReason.DISAGREEMENT):
        transaction.on_commit(lambda: trust_check(source=source), robust=True)
