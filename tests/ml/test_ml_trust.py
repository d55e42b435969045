"""The live-precision policy (ml.trust): the window risk, the judgement, raising, lowering, audit shares."""

from dataclasses import replace

import pytest

from ml.trust import (
    HOLD,
    LOWER,
    RAISE,
    REVIEW_ALL,
    Audit,
    TrustSettings,
    audit_share,
    can_prove,
    decide,
    estimate,
    prior_threshold,
    wilson_lower,
    window_risk,
)

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
    found = estimate([Audit(0.9, True), Audit(0.8, False), Audit(0.5, False)], 0.8, POLICY)
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


# --- the prior: the model's time-ordered validation, pooled with the live audits ---

PRIOR_POLICY = TrustSettings(target=0.95, confidence=0.95, min_audits=20, release_audits=30, prior_weight=1.0)


def test_the_prior_proves_the_lowest_threshold_its_items_bound_at_the_target():
    # 80 right answers from 0.8 up; below that, errors: the start is 0.8, not lower.
    prior = audits(10, confidence=0.6, wrong=5) + audits(80, confidence=0.8)
    assert prior_threshold(prior, PRIOR_POLICY) == 0.8
    # Enough items, but a confident error among them: no threshold is proven, everything goes to review.
    assert prior_threshold(audits(80, confidence=0.8) + [Audit(0.99, False)], PRIOR_POLICY) == REVIEW_ALL
    # At half weight the 90 items count as 45: too few to prove anything, so no verdict.
    assert prior_threshold(prior, replace(PRIOR_POLICY, prior_weight=0.5)) is None
    # Too few items to prove the target even if all were right: no verdict at all.
    assert prior_threshold(audits(30, confidence=0.9), PRIOR_POLICY) is None
    assert not can_prove(50, PRIOR_POLICY) and can_prove(60, PRIOR_POLICY)


def test_with_a_prior_the_first_live_error_at_a_marginal_threshold_raises_it():
    # 199/200 right from 0.8: a window of 30 misses the target with chance 0.03, within 0.05: the start is 0.8.
    prior = audits(100, confidence=0.8, wrong=1) + audits(100, confidence=0.97)
    start = prior_threshold(prior, PRIOR_POLICY)
    assert start == 0.8
    wrong = [Audit(0.85, False)]
    decision = decide(
        window=wrong, new=wrong, base_threshold=start, current_threshold=start, settings=PRIOR_POLICY, prior=prior
    )
    # Judged on one audit (the prior makes up the evidence): 2 errors in 201 put the risk over 0.05.  From 0.97 a
    # window accepts about half its items, under 20, which allows no error: 100 right answers cannot prove that.
    assert decision.action == RAISE and decision.threshold == REVIEW_ALL
    assert decision.estimate.n == 1 and decision.estimate.prior_n == 200
    assert decision.estimate.risk > PRIOR_POLICY.risk
    assert "validation items" in decision.reason and "chance" in decision.reason
    # Without the prior the same audit is not judged: too few audits.
    alone = decide(window=wrong, new=wrong, base_threshold=start, current_threshold=start, settings=POLICY)
    assert alone.action == HOLD


def test_an_error_already_in_the_window_raises_the_threshold_at_once():
    # Ample evidence: one wrong in 400 from 0.8, every item from 0.97 right.
    prior = audits(100, confidence=0.8, wrong=1) + audits(300, confidence=0.97)
    right = [Audit(0.9, True)]
    held = decide(
        window=right, new=right, base_threshold=0.8, current_threshold=0.8, settings=PRIOR_POLICY, prior=prior
    )
    assert held.action == HOLD
    # The same evidence, but an audit found an error among the items this window accepted: the rest of the window
    # may make none, so the threshold rises to where that is likely.
    spent = decide(
        window=right, new=right, base_threshold=0.8, current_threshold=0.8, settings=PRIOR_POLICY, prior=prior, spent=1
    )
    assert spent.action == RAISE and 0.8 < spent.threshold < REVIEW_ALL
    assert spent.estimate.spent == 1 and "already in this window" in spent.reason


def test_the_window_risk_asks_for_about_0_99_per_item():
    policy = TrustSettings()
    # 57 right out of 57 is the least evidence that keeps a window of 30 within 5% of missing 0.95
    # (a Wilson bound at 0.95 would ask 53): the goal allows one error in 30, so the rate must be near 0.01.
    assert window_risk(56, 56, 1.0, policy) > 0.05 >= window_risk(57, 57, 1.0, policy)
    assert window_risk(0, 0, 1.0, policy) is None
    # One error in 100 is riskier than none; an error already made in the window leaves no allowance.
    assert window_risk(99, 100, 1.0, policy) > window_risk(100, 100, 1.0, policy)
    assert window_risk(100, 100, 1.0, policy, spent=1) > window_risk(100, 100, 1.0, policy)
    # A window accepting fewer than 20 items may make no error at all: accepting less can be riskier.
    assert window_risk(100, 100, 0.5, policy) > window_risk(100, 100, 1.0, policy)
    assert window_risk(100, 100, 0.0, policy) == 0.0


def test_live_errors_outweigh_a_prior_that_no_longer_holds():
    prior = audits(100, confidence=0.8)
    live = audits(20, confidence=0.8, wrong=4)
    decision = decide(
        window=live, new=live, base_threshold=0.8, current_threshold=0.8, settings=PRIOR_POLICY, prior=prior
    )
    assert decision.action == RAISE and decision.threshold == REVIEW_ALL
    right = audits(20, confidence=0.8)
    kept = decide(
        window=right, new=right, base_threshold=0.8, current_threshold=0.8, settings=PRIOR_POLICY, prior=prior
    )
    assert kept.action == HOLD and kept.estimate.lower > 0.95


def test_audits_are_front_loaded_and_decay_to_the_base_share_as_evidence_accumulates():
    policy = TrustSettings(base_audit_share=0.05, raised_audit_share=0.25, settle_audits=20)
    shares = [audit_share(policy, 0.7, 0.7, audits(n, confidence=0.9)) for n in (0, 5, 10, 20, 40)]
    assert shares == pytest.approx([0.25, 0.20, 0.15, 0.05, 0.05])
    # Audits below the threshold in force do not settle it: they say nothing of what is accepted.
    assert audit_share(policy, 0.7, 0.7, audits(20, confidence=0.5)) == 0.25
    # A raised source is audited at the raised share however much evidence there is.
    assert audit_share(policy, 0.9, 0.7, audits(40, confidence=0.95)) == 0.25
    assert audit_share(replace(policy, warmup=False), 0.7, 0.7, []) == 0.05


def test_the_pooled_estimate_keeps_live_and_prior_counts_apart():
    half = replace(POLICY, prior_weight=0.5)
    found = estimate(
        [Audit(0.9, True), Audit(0.9, False), Audit(0.5, True)], 0.8, half, prior=audits(10, confidence=0.85)
    )
    assert (found.n, found.correct, found.precision) == (2, 1, 0.5)
    assert (found.prior_n, found.prior_correct) == (5.0, 5.0)
    assert found.lower == pytest.approx(wilson_lower(6, 7, 0.95))
    # 7 of the 8 weighted items are accepted at 0.8: the window's expected share.
    assert found.share == pytest.approx(7 / 8)
    assert found.risk == pytest.approx(window_risk(6, 7, 7 / 8, half))


def test_a_model_whose_own_threshold_proves_nothing_earns_one_on_live_evidence():
    few = audits(29, confidence=0.8)
    held = decide(window=few, new=few, base_threshold=REVIEW_ALL, current_threshold=REVIEW_ALL, settings=POLICY)
    assert held.action == HOLD and held.threshold == REVIEW_ALL
    many = audits(10, confidence=0.6, wrong=5) + audits(60, confidence=0.8)
    lowered = decide(window=many, new=many, base_threshold=REVIEW_ALL, current_threshold=REVIEW_ALL, settings=POLICY)
    assert lowered.action == LOWER and lowered.threshold == 0.8
    # Never below the lowest audited confidence: nothing under it was checked.
    right = audits(60, confidence=0.8)
    floor = decide(window=right, new=right, base_threshold=REVIEW_ALL, current_threshold=REVIEW_ALL, settings=POLICY)
    assert floor.action == LOWER and floor.threshold == 0.8
