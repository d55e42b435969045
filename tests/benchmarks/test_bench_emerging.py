"""bench_emerging: which items are unsure under each rule, and a report whose table is the product's rule."""

from dataclasses import replace

from benchmarks.bench_emerging import RULES, Outcome, _unsure, report


def test_an_item_is_unsure_when_flagged_or_scored_below_the_threshold():
    newer, scores, flags = [10, 11, 12, 13], [0.95, 0.5, 0.9, 0.89], [False, False, True, False]
    assert _unsure(newer, scores, 0.9, flags) == {11, 12, 13}
    assert _unsure(newer, scores, 0.0, [False] * 4) == set()


def _outcome(rule: str, dropped: str, top_tag: str, purity: float) -> Outcome:
    return Outcome(
        rule=rule,
        protocol="reporting",
        method="meaning",
        dropped=dropped,
        dropped_newer=20,
        candidates=50,
        dropped_in_candidates=15,
        clusters=3,
        top_tag=top_tag,
        top_size=10,
        top_purity=purity,
        top_recall=purity / 2,
        top_terms=["graph", "neural"],
        cv_threshold=0.7,
        proven_threshold=None,
    )


def test_the_table_shows_the_review_rule_the_service_takes_and_the_summary_counts_each_rule():
    product = _outcome(RULES[0], "other", "other", 0.9)
    outcomes = [
        product,
        replace(product, dropped="mlops", top_tag="computer-vision", top_purity=0.2),
        _outcome("before", "other", "other", 0.8),
        _outcome("before", "mlops", "mlops", 0.8),
    ]
    text = report(outcomes, 12.0, "python -m benchmarks.bench_emerging", ("1.0", "2.0"))
    assert "| reporting | meaning | other | 20 | 0.700 / - | 50 (15) | 3 | other | 10 | 0.90 |" in text
    assert "| reporting | meaning | other | 20 | 0.700 / - | 50 (15) | 3 | other | 10 | 0.80 |" not in text
    assert "| review rule | reporting | meaning | 1 of 2 |" in text
    assert "| before | reporting | meaning | 2 of 2 |" in text
    assert "load average 1.0 at the start and 2.0 at the end" in text
