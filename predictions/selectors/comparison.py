"""Put a candidate beside the active model on the same frozen holdout."""

from dataclasses import dataclass, field

from django.conf import settings

from labeling.models import Split
from ml.evaluation import evaluate
from ml.items import LabelledItem
from ml.prediction import predict
from ml.text import prepare_text
from predictions import selectors
from predictions.model_store import load_version
from predictions.models import ModelVersion

MAX_CHANGED_ITEMS = 200


@dataclass
class Comparison:
    candidate: ModelVersion
    baseline: ModelVersion | None
    candidate_metrics: dict
    baseline_metrics: dict
    # (content id, title, gold tag, baseline tag, candidate tag)
    changed: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    changed_count: int = 0
    gate_failures: list[str] = field(default_factory=list)
    # Today's holdout, and whether it is the one the candidate was measured on at training.
    holdout_count: int = 0
    holdout_as_at_training: bool = False


def model_versions_compare(*, candidate: ModelVersion, baseline: ModelVersion | None) -> Comparison:
    """Evaluate both versions on today's holdout (the same items for both) and apply the gates.

    A version whose recorded figures were measured on this very holdout keeps them: one
    number per model and holdout, whatever page shows it.
    """
    holdout = selectors.gold_labelled(split=Split.HOLDOUT)
    fingerprint = selectors.holdout_fingerprint(holdout)
    items = [LabelledItem(item.title, item.description, item.tag) for item in holdout]
    texts = [prepare_text(item.title, item.description) for item in holdout]
    comparison = Comparison(
        candidate,
        baseline,
        {},
        {},
        holdout_count=len(holdout),
        holdout_as_at_training=candidate.holdout_fingerprint == fingerprint,
    )
    if not items:
        return comparison
    if baseline is None:
        comparison.candidate_metrics = _metrics_on(candidate, fingerprint, items, texts, None)
        return comparison
    # With a baseline, the items whose prediction changed need both models' predictions anyway.
    candidate_predictions = predict(load_version(candidate), texts)
    comparison.candidate_metrics = _metrics_on(candidate, fingerprint, items, texts, candidate_predictions)
    baseline_predictions = predict(load_version(baseline), texts)
    comparison.baseline_metrics = _metrics_on(baseline, fingerprint, items, texts, baseline_predictions)
    changed = [
        (item.content_id, item.title, item.tag, old.tag, new.tag)
        for item, old, new in zip(holdout, baseline_predictions, candidate_predictions)
        if old.tag != new.tag
    ]
    comparison.changed_count = len(changed)
    comparison.changed = changed[:MAX_CHANGED_ITEMS]
    comparison.gate_failures = gate_failures(comparison.candidate_metrics, comparison.baseline_metrics)
    return comparison


def _metrics_on(version: ModelVersion, fingerprint: str, items, texts, predictions) -> dict:
    if version.holdout_fingerprint == fingerprint:
        return version.metrics
    if predictions is None:
        predictions = predict(load_version(version), texts)
    return evaluate(
        items=items,
        predictions=predictions,
        labels=selectors.label_set(),
        target_precision=settings.TAGLOOP_TARGET_PRECISION,  # as at training, so the figures compare
    )


def gate_failures(candidate: dict, baseline: dict) -> list[str]:
    """Why the candidate may not replace the baseline; empty when it may."""
    failures = []
    max_drop = settings.TAGLOOP_GATE_MAX_F1_DROP
    drop = baseline["overall"]["f1"] - candidate["overall"]["f1"]
    if drop > max_drop:
        failures.append(
            f"overall F1 {candidate['overall']['f1']:.3f} is {drop:.3f} below the active model's "
            f"{baseline['overall']['f1']:.3f} (allowed: {max_drop:.3f})"
        )
    max_slice_drop = settings.TAGLOOP_GATE_MAX_SLICE_F1_DROP
    for name, old in baseline.get("slices", {}).items():
        new = candidate.get("slices", {}).get(name, {})
        if (old.get("n") or 0) < settings.TAGLOOP_GATE_MIN_SLICE_SIZE or old.get("f1") is None:
            continue
        slice_drop = old["f1"] - (new.get("f1") or 0.0)
        if slice_drop > max_slice_drop:
            failures.append(
                f"slice {name}: F1 {new.get('f1') or 0:.3f} is {slice_drop:.3f} below {old['f1']:.3f} "
                f"(allowed: {max_slice_drop:.3f}, n={old['n']})"
            )
    return failures
