"""Writes of the machine side, one module per idea; the public functions are re-exported here.

Reads are in predictions.selectors (a package: the general reads, and comparison, monitoring,
thresholds, ood, canary_report).
"""

from predictions.services.batch import (
    content_enqueue_prediction,
    predictions_create,
    predictions_enqueue_missing,
)
from predictions.services.canary import CanaryError, canary_start, canary_stop
from predictions.services.drift import drift_check_request, drift_checks_run
from predictions.services.gates import PromotionBlocked, PromotionError
from predictions.services.jobs import job_resume
from predictions.services.rollout import model_version_promote, model_version_rollback
from predictions.services.serving import NoActiveModel, OnlinePrediction, predict_text
from predictions.services.training import (
    auto_retrain_if_due,
    evaluate_labelled,
    model_version_cancel,
    model_version_request,
    model_version_train,
    retrain_waiting_for_broker,
)

__all__ = [
    "auto_retrain_if_due",
    "CanaryError",
    "canary_start",
    "canary_stop",
    "NoActiveModel",
    "PromotionBlocked",
    "OnlinePrediction",
    "PromotionError",
    "content_enqueue_prediction",
    "drift_check_request",
    "drift_checks_run",
    "job_resume",
    "retrain_waiting_for_broker",
    "evaluate_labelled",
    "model_version_cancel",
    "model_version_promote",
    "model_version_rollback",
    "model_version_request",
    "model_version_train",
    "predict_text",
    "predictions_create",
    "predictions_enqueue_missing",
]
