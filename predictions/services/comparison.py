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


def model_versions_compare(*, candidate: ModelVersion, baseline: ModelVersion | None) -> Comparison:
    """Evaluate both versions on today's holdout (the same items for both) and apply the gates."""
    holdout = selectors.gold_labelled(split=Split.HOLDOUT)
    items = [LabelledItem(item.title, item.description, item.tag) for item in holdout]
    texts = [prepare_text(item.title, item.description) for item in holdout]
    labels = selectors.label_set()
    candidate_predictions = predict(load_version(candidate), texts) if items else []
    candidate_metrics = evaluate(items=items, predictions=candidate_predictions, labels=labels) if items else {}
    comparison = Comparison(candidate, baseline, candidate_metrics, {})
    if baseline is None or not items:
        return comparison
    baseline_predictions = predict(load_version(baseline), texts)
    comparison.baseline_metrics = evaluate(items=items, predictions=baseline_predictions, labels=labels)
    changed = [
        (item.content_id, item.title, item.tag, old.tag, new.tag)
        for item, old, new in zip(holdout, baseline_predictions, candidate_predictions)
        if old.tag != new.tag
    ]
    comparison.changed_count = len(changed)
    comparison.changed = changed[:MAX_CHANGED_ITEMS]
    comparison.gate_failures = gate_failures(candidate_metrics, comparison.baseline_metrics)
    return comparison


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
