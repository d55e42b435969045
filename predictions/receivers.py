"""The machine side listens to the human side; the reverse import never happens."""

from django.dispatch import receiver

from labeling.signals import content_ingested
from predictions.services import content_enqueue_prediction


@receiver(content_ingested)
def predict_ingested_content(sender, content_ids, **kwargs):
    content_enqueue_prediction(content_ids=content_ids)
