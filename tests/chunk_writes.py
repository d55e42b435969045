"""What a re-prediction chunk writes, read back for comparison: tests that run a chunk two ways assert the same rows."""

from labeling.models import Content, ReviewTask
from predictions.models import Prediction


def rows_a_chunk_writes() -> dict:
    """Every row a chunk may touch, without the times it stamps (now, which differs from run to run)."""
    return {
        "content": list(
            Content.objects.order_by("pk").values_list(
                "pk",
                "current_tag",
                "current_tag_origin",
                "current_tag_confidence",
                "current_model_version",
                "current_probabilities",
                "is_out_of_distribution",
                "ood_reasons",
                "ood_dismissed",
            )
        ),
        "predictions": list(
            Prediction.objects.order_by("content", "model_version").values_list(
                "content", "model_version", "tag", "probabilities", "confidence", "text_hash"
            )
        ),
        "tasks": [
            (*task, resolved_at is None)
            for *task, resolved_at in ReviewTask.objects.order_by("content", "reason", "status", "pk").values_list(
                "content",
                "reason",
                "status",
                "priority",
                "required_answers",
                "model_version",
                "predicted_tag",
                "probabilities",
                "assignee",
                "resolved_at",
            )
        ],
    }
