"""make bench-trust's stream: the policy off keeps the model's threshold, on it acts on the audits."""

from benchmarks.bench_trust import Item, is_audit, stream_once, tradeoff_svg, window_figures
from ml.trust import RAISE, REVIEW_ALL, Audit, TrustSettings, prior_threshold


def _stream() -> list[Item]:
    # Confident and right at first, then confident and often wrong: the stream moved.
    first = [Item(f"a{k}", 0.9, True) for k in range(100)]
    moved = [Item(f"b{k}", 0.9, k % 4 != 0) for k in range(200)]
    return first + moved


def test_off_the_threshold_never_moves_and_audits_are_the_base_share():
    items = _stream()
    policy = TrustSettings(base_audit_share=0.1)
    run = stream_once(items, base=0.7, settings=policy, on=False, seed=0, lag=3)
    assert set(run.thresholds) == {0.7} and not run.changes
    assert all(run.accepted)
    assert sum(run.audited) == sum(is_audit(item.key, share=0.1, seed=0) for item in items)


def test_on_the_policy_raises_the_threshold_and_precision_recovers():
    items = _stream()
    policy = TrustSettings(base_audit_share=0.1, raised_audit_share=0.5, min_audits=20)
    run = stream_once(items, base=0.7, settings=policy, on=True, seed=0, lag=3)
    assert run.changes and run.changes[0][1] == RAISE and run.changes[0][3] == REVIEW_ALL
    figures = window_figures(items, run, 3)
    off = window_figures(items, stream_once(items, base=0.7, settings=policy, on=False, seed=0, lag=3), 3)
    assert figures[-1]["automation"] == 0 and off[-1]["precision"] < 0.8
    assert sum(f["audits"] for f in figures) > sum(f["audits"] for f in off)  # the price: more audits


def test_with_the_validation_as_prior_a_kept_promise_stands_and_a_broken_one_is_caught():
    policy = TrustSettings(base_audit_share=0.1, raised_audit_share=0.5, min_audits=20)
    prior = [Audit(0.9, True) for _ in range(70)]  # the validation kept the promise at 0.9 (bound 0.95)
    assert prior_threshold(prior, policy) == 0.9
    steady = [Item(f"s{k}", 0.9, True) for k in range(300)]
    # On audits alone 20 right answers cannot prove 0.95: a stream that keeps the promise is sent to review.
    alone = stream_once(steady, base=0.9, settings=policy, on=True, seed=0, lag=3)
    assert alone.changes and alone.changes[0][3] == REVIEW_ALL
    pooled = stream_once(steady, base=0.9, settings=policy, on=True, seed=0, lag=3, prior=prior)
    assert not pooled.changes and all(pooled.accepted)
    # Where the stream moves, the audits' errors pull the pooled bound down: raised after the move, not before.
    moved = stream_once(_stream(), base=0.9, settings=policy, on=True, seed=0, lag=3, prior=prior)
    assert moved.changes and moved.changes[0][1] == RAISE and moved.changes[0][0] > 100
    assert all(moved.accepted[:100]) and sum(moved.accepted[200:]) == 0


def test_an_audited_error_raises_the_threshold_for_the_rest_of_its_window():
    # Ample validation evidence at 0.8 (one error in 400): alone, one more error would not move the threshold.
    prior = [Audit(0.8, k != 0) for k in range(100)] + [Audit(0.97, True) for _ in range(300)]
    policy = TrustSettings(base_audit_share=1.0, raised_audit_share=1.0, window_items=30)
    assert prior_threshold(prior, policy) == 0.8
    items = [Item(f"w{k}", 0.9, k != 10) for k in range(60)]  # one wrong item, the 11th
    run = stream_once(items, base=0.8, settings=policy, on=True, seed=0, lag=3, prior=prior)
    # Answered 3 items later, the error spends the window's allowance: raised at once, above the error's confidence.
    index, action, old, new = run.changes[0]
    assert (index, action, old) == (13, RAISE, 0.8) and new > 0.9
    assert all(run.accepted[:13]) and not any(run.accepted[13:30])


def test_the_trade_off_plot_is_a_standalone_svg_with_both_series():
    svg = tradeoff_svg([("risk 0.02", [1.0, 0.0]), ("risk 0.05 (default)", [0.6, 0.45])])
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "risk 0.05 (default)" in svg and "goal met" in svg and "automation" in svg
    assert "<title>automation after window 1 (mean): 0.450</title>" in svg
