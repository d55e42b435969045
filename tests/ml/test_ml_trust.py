"""The live-precision policy (ml.trust): the bound, the judgement, raising, lowering, audit shares."""

import pytest

from ml.trust import HOLD, LOWER, RAISE, REVIEW_ALL, Audit, TrustSettings, decide, estimate, wilson_lower

POLICY = TrustSettings(target=0.95, confidence=0.95, min_audits=20, release_audits=30, raised_audit_share=0.25)


def audits(n: int, *, confidence: float, wrong: int = 0) -> list[Audit]:
    return [Audit(confidence, k >= wrong) for k in range(n)]


def test_the_wilson_lower_bound_matches_the_formula_and_tightens_with_evidence():
    assert wilson_lower(20, 20, 0.95) == pytest.approx(0.8809, abs=1e-4)
    assert wilson_lower(0, 0, 0.95) is None
    assert wilson_lower(19, 20, 0.95) < 19 / 20 < 1
    # More of the same evidence, a tighter bound; a stricter confidence, a lower one.
    assert wilson_lower(95, 100, 0.95) > wilson_lower(19, 20, 0.95)
    assert wilson_lower(19, 20, 0.99) < wilson_lower(19, 20, 0.8)
    # About 52 right out of 52 is where a one-sided 95% bound reaches 0.95.
    assert wilson_lower(51, 51, 0.95) < 0.95 <= wilson_lower(53, 53, 0.95)


def test_the_estimate_counts_only_audits_accepted_at_the_threshold():
    found = estimate([Audit(0.9, True), Audit(0.8, False), Audit(0.5, False)], 0.8, 0.95)
    assert (found.n, found.correct, found.precision) == (2, 1, 0.5)


def test_too_few_audits_are_not_judged():
    window = audits(19, confidence=0.9, wrong=5)
    decision = decide(window=window, new=window, base_threshold=0.7, current_threshold=0.7, settings=POLICY)
    assert decision.action == HOLD and decision.threshold == 0.7


def test_a_bound_below_the_target_with_no_proven_threshold_sends_everything_to_review():
    window = audits(20, confidence=0.9)  # all right, but 20/20 bounds only 0.88
    decision = decide(window=window, new=window, base_threshold=0.7, current_threshold=0.7, settings=POLICY)
    assert decision.action == RAISE and decision.threshold == REVIEW_ALL
    assert decision.audit_share == 0.25
    assert "everything goes to review" in decision.reason and "20/20" in decision.reason


def test_the_threshold_rises_to_the_lowest_one_the_audits_prove():
    # Errors below 0.8, 60 right answers from 0.8 up: 0.8 is proven, 0.7 is not.
    window = audits(10, confidence=0.72, wrong=6) + audits(60, confidence=0.85)
    decision = decide(window=window, new=window, base_threshold=0.7, current_threshold=0.7, settings=POLICY)
    assert decision.action == RAISE and decision.threshold == 0.85
    assert decision.estimate.n == 70 and decision.estimate.correct == 64
    # The same audits judge the raised threshold as kept: no second raise.
    again = decide(window=window, new=[], base_threshold=0.7, current_threshold=0.85, settings=POLICY)
    assert again.action == HOLD and again.threshold == 0.85


def test_a_raised_threshold_is_lowered_only_on_enough_new_evidence():
    old = audits(20, confidence=0.75, wrong=4)
    few = audits(29, confidence=0.75)
    held = decide(window=old + few, new=few, base_threshold=0.7, current_threshold=REVIEW_ALL, settings=POLICY)
    assert held.action == HOLD and held.threshold == REVIEW_ALL and held.audit_share == 0.25
    many = audits(60, confidence=0.75)
    lowered = decide(window=old + many, new=many, base_threshold=0.7, current_threshold=REVIEW_ALL, settings=POLICY)
    assert lowered.action == LOWER and lowered.threshold == 0.7
    assert lowered.audit_share == POLICY.base_audit_share  # back at the model's own: the base share
    assert lowered.estimate.n == 60 and lowered.estimate.lower >= 0.95


def test_new_errors_keep_a_raised_threshold_up():
    new = audits(60, confidence=0.75, wrong=6)
    decision = decide(window=new, new=new, base_threshold=0.7, current_threshold=REVIEW_ALL, settings=POLICY)
    assert decision.action == HOLD and decision.threshold == REVIEW_ALL


def test_audit_share_warms_up_and_stays_off_when_audits_are_off():
    warm = decide(window=[], new=[], base_threshold=0.7, current_threshold=0.7, settings=POLICY)
    assert warm.audit_share == 0.25
    proven = audits(60, confidence=0.9)
    assert (
        decide(window=proven, new=proven, base_threshold=0.7, current_threshold=0.7, settings=POLICY).audit_share
        == 0.05
    )
    off = TrustSettings(base_audit_share=0.0)
    assert decide(window=[], new=[], base_threshold=0.7, current_threshold=0.7, settings=off).audit_share == 0.0


def test_settings_out_of_range_are_refused():
    with pytest.raises(ValueError, match="target"):
        TrustSettings(target=1.5)
    with pytest.raises(ValueError, match="confidence"):
        TrustSettings(confidence=1.0)
    with pytest.raises(ValueError, match="min_audits"):
        TrustSettings(min_audits=0)
