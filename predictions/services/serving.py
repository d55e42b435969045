"""Online predictions: one item, the active model (or a canary's candidate for the items it serves)."""

import logging
from dataclasses import dataclass

from common.errors import ApplicationError
from labeling.models import Content
from ml.persistence import ArtifactIntegrityError
from ml.prediction import predict
from ml.text import prepare_text
from predictions.model_store import acceptance_scorer_cached, load_for_serving, serving_state_cached
from predictions.models import CanaryArm, ModelVersion, Prediction
from predictions.selectors.trust import thresholds_cached
from predictions.services.canary import (
    arm_for,
    content_key,
    serving_arm,
    serving_count_request,
    serving_record_online,
    text_key,
)

logger = logging.getLogger(__name__)


class NoActiveModel(ApplicationError):
    """No model version is active yet: train one and promote it."""

    code = "no_active_model"
    http_status = 503


class ModelUnavailable(ApplicationError):
    """The model that should answer cannot be loaded: its artifact is missing or altered."""

    code = "model_unavailable"
    http_status = 503


@dataclass(frozen=True)
class OnlinePrediction:
    tag: str
    probabilities: dict[str, float]
    confidence: float
    model_version: int
    needs_review: bool
    canary: bool = False  # served by a canary's candidate rather than the active model


def predict_text(*, title: str, description: str, content: Content | None = None) -> OnlinePrediction:
    """Tag one text. Without a canary this writes nothing; with one, the requests it serves are recorded.

    ``content`` names the stored item the text belongs to, so the answer comes from the
    model whose tag the item's page shows; without it the text itself decides.
    """
    state = serving_state_cached()
    version = state.active
    if version is None:
        raise NoActiveModel("no model is active yet; train one and promote it")
    text = prepare_text(title, description)
    result = _predict(version, text)
    canary = state.canary
    if canary is None or canary.baseline_id != version.pk:
        return _answer(version, result, text=text, source=content.source if content is not None else None)
    if content is None:
        return _serve_by_hash(canary, text_key(text), text=text, baseline=result)
    return _serve_stored(canary, content, text=text, baseline=result)


def serving_warm() -> list[ModelVersion]:
    """Load the models that answer online (the active one, a canary's candidate) and answer one text with each.

    For a web process starting up: the artifact's load, the compile and the first call's
    imports happen here rather than in someone's request. Returns the versions warmed;
    raises ModelUnavailable as a prediction would.
    """
    state = serving_state_cached()
    versions = [version for version in (state.active, state.canary and state.canary.candidate) if version]
    for version in versions:
        _predict(version, prepare_text("warm up", "a first prediction before the first request"))
    return versions


def _serve_stored(canary, content: Content, *, text: str, baseline) -> OnlinePrediction:
    """A stored item gets the model its page shows; the canary counts only the items it routed.

    The workers route an item through the canary when they predict it (see batch);
    items predicted before the canary started keep the active model's tag, so the
    hash alone would answer some of them with a model their page never showed.
    """
    key = content_key(content.pk)
    arm = _arm_of_stored(canary, content, key)
    if arm is None:
        if _predicted_by(canary.baseline, content):  # tagged before the canary: not in it
            return _answer(canary.baseline, baseline, text=text, source=content.source)
        # Not predicted by the active model yet: the workers will route it by this same hash.
        return _serve_by_hash(canary, key, text=text, baseline=baseline, content=content)
    if arm == CanaryArm.CANDIDATE:
        candidate = _predict(canary.candidate, text)
        serving_record_online(canary, key=key, arm=arm, content=content, baseline=baseline, candidate=candidate)
        return _answer(canary.candidate, candidate, canary=True, text=text, source=content.source)
    # Counted only if the canary put the item in its control group (no record is made here).
    serving_count_request(canary, key=key, arm=arm)
    return _answer(canary.baseline, baseline, text=text, source=content.source)


def _arm_of_stored(canary, content: Content, key: str) -> str | None:
    """The arm of the canary model whose tag the item's page shows.

    A page showing neither model's tag (a person's tag, an out-of-distribution flag)
    follows the canary's record of the item, if the workers routed it.
    """
    shown = content.current_model_version
    if shown == canary.candidate.number:
        return CanaryArm.CANDIDATE
    if shown == canary.baseline.number:
        return CanaryArm.BASELINE
    return serving_arm(canary, key=key)


def _serve_by_hash(canary, key: str, *, text: str, baseline, content: Content | None = None) -> OnlinePrediction:
    arm = arm_for(canary, key)
    source = content.source if content is not None else None
    if arm is None:  # outside the canary and its control group: no second model, no write
        return _answer(canary.baseline, baseline, text=text, source=source)
    candidate = _predict(canary.candidate, text)
    serving_record_online(canary, key=key, arm=arm, content=content, baseline=baseline, candidate=candidate)
    if arm == CanaryArm.CANDIDATE:
        return _answer(canary.candidate, candidate, canary=True, text=text, source=source)
    return _answer(canary.baseline, baseline, text=text, source=source)


def _predicted_by(version: ModelVersion, content: Content) -> bool:
    return Prediction.objects.filter(model_version=version, content=content).exists()


_reported_unavailable: set[tuple[int, str]] = set()


def _predict(version: ModelVersion, text: str):
    try:
        model = load_for_serving(version)
    except (FileNotFoundError, ArtifactIntegrityError) as exc:
        # Every request would fail the same way: log it once per process, not once per request.
        if (version.number, version.artifact_sha256) not in _reported_unavailable:
            _reported_unavailable.add((version.number, version.artifact_sha256))
            # The exception names where the artifact was looked for or which copy was altered.
            logger.error("v%s cannot serve: %s", version.number, exc)
        what = "missing" if isinstance(exc, FileNotFoundError) else "not the one trained (sha256 differs)"
        raise ModelUnavailable(
            f"the artifact of model v{version.number} is {what} on this server; predictions resume once it is restored"
        ) from exc
    [result] = predict(model, [text])
    return result


def _answer(version, result, *, text: str, canary: bool = False, source: str | None = None) -> OnlinePrediction:
    """``source``: the stored item's, whose threshold in force decides; None, the strictest in force.

    The threshold applies to the version's acceptance score (its trust score, or the confidence).
    """
    score = acceptance_scorer_cached(version)(text, result.tag, result.confidence)
    return OnlinePrediction(
        tag=result.tag,
        probabilities=result.probabilities,
        confidence=result.confidence,
        model_version=version.number,
        needs_review=score < thresholds_cached(version=version).for_source(source),
        canary=canary,
    )
