"""The promotion gates: a candidate must not be worse than the active model on the holdout."""

from common.errors import ApplicationError, NeedsOverride
from predictions import selectors
from predictions.artifact_store import artifact_exists
from predictions.models import ModelVersion
from predictions.selectors.comparison import model_versions_compare


class PromotionError(ApplicationError):
    """A version cannot be made active (or rolled back to) as asked."""

    code = "promotion_refused"


class PromotionBlocked(NeedsOverride, PromotionError):
    """The candidate fails a gate; an admin may override with a reason."""

    code = "gates_failed"

    def __init__(self, failures: list[str]):
        super().__init__(failures, message="blocked by the gates: " + "; ".join(failures))


def gate_failures_against_active(candidate: ModelVersion, *, override_reason: str = "") -> list[str]:
    """The gates ``candidate`` fails beside the active model; raises PromotionBlocked unless overridden.

    Returns the failures an override set aside (empty when every gate passed), for the
    audit trail. Evaluation takes seconds, so callers run this before taking any lock.
    """
    active = selectors.active_model_version()
    failures = []
    if active is not None and active.pk != candidate.pk:
        failures = _compared_with(candidate, active)
    if failures and not override_reason.strip():
        raise PromotionBlocked(failures)
    return failures


def _compared_with(candidate: ModelVersion, active: ModelVersion) -> list[str]:
    # An active model whose artifact is gone (a wiped var/) cannot be compared with;
    # that is a failed gate an admin can override, not a crash that leaves it active.
    if not artifact_exists(active):
        return [
            f"the active model v{active.number} cannot be compared with: its artifact {active.artifact_path} is missing"
        ]
    return model_versions_compare(candidate=candidate, baseline=active).gate_failures
