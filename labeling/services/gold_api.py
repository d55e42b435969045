"""Gold labels decided through the REST API by a reviewer (provenance ``api``)."""

from django.db import transaction

from labeling.models import Content, GoldLabel, Provenance, ReviewReason, Tag
from labeling.services import review_tasks_close_untouched
from labeling.services.gold import gold_label_set


class GoldLabelExists(Exception):
    """The item has a gold label already: change that one instead of making a second."""

    def __init__(self, label: GoldLabel):
        super().__init__(f"content {label.content_id} already has gold label {label.pk}")
        self.label = label


@transaction.atomic
def gold_label_decide(*, content_id: int, tag: Tag, user, create: bool) -> GoldLabel:
    """Set the item's gold label to ``tag`` as ``user`` decided it, like an answer in the queue.

    ``create``: refuse an item that has a label (GoldLabelExists), so two clients making
    "the" label at once cannot silently overwrite each other. The open tasks that ask for
    this item's tag and that nobody has touched are withdrawn: the question is answered.
    Reports stay open for the queue, where settling one tells its reporter the outcome.
    """
    content = Content.objects.select_for_update().get(pk=content_id)
    existing = GoldLabel.objects.filter(content=content).first()
    if create and existing is not None:
        raise GoldLabelExists(existing)
    label = gold_label_set(content=content, tag=tag, provenance=Provenance.API, decided_by=user)
    for reason in ReviewReason.values:
        if reason != ReviewReason.REPORT:
            review_tasks_close_untouched(content_ids=[content.pk], reason=reason)
    return label
