"""Agreement between annotators: Cohen's kappa for a pair, Krippendorff's alpha for many.

Plain functions on plain data: ``ratings`` maps an item to the labels it received
(one per annotator who answered it).
"""

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from typing import Any, TypeVar

# What identifies an item (a content id in the app): only compared and hashed here.
Item = TypeVar("Item", bound=Hashable)


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Kappa of two annotators on the same items, in order; None when undefined (< 2 items)."""
    if len(first) != len(second):
        raise ValueError("both annotators must rate the same items")
    if len(first) < 2:
        return None
    if len(set(first) | set(second)) == 1:
        return 1.0  # perfect agreement on a single category: kappa is 0/0, agreement is total
    from sklearn.metrics import cohen_kappa_score  # here: the quality page imports this module at start-up

    return float(cohen_kappa_score(first, second))


def krippendorff_alpha_nominal(ratings: Mapping[Item, Sequence[str]]) -> float | None:
    """Krippendorff's alpha for nominal labels; items with fewer than two ratings are ignored.

    alpha = 1 - D_o / D_e from the coincidence matrix: observed disagreement among the
    pairable values of each item, against the disagreement expected by chance from all
    pairable values. None when undefined (nothing pairable, or a single category used).
    """
    units = [list(values) for values in ratings.values() if len(values) >= 2]
    if not units:
        return None
    coincidences: defaultdict[tuple[str, str], float] = defaultdict(float)
    for values in units:
        weight = 1.0 / (len(values) - 1)
        for a, b in combinations(range(len(values)), 2):
            coincidences[(values[a], values[b])] += weight
            coincidences[(values[b], values[a])] += weight
    totals: defaultdict[str, float] = defaultdict(float)
    for (value, _), count in coincidences.items():
        totals[value] += count
    n = sum(totals.values())
    if len(totals) < 2 or n <= 1:
        return 1.0 if units else None
    observed = sum(count for (a, b), count in coincidences.items() if a != b) / n
    expected = sum(totals[a] * totals[b] for a in totals for b in totals if a != b) / (n * (n - 1))
    return 1.0 - observed / expected


def pairwise_kappas(ratings_by_annotator: Mapping[str, Mapping[Item, str]]) -> list[dict[str, Any]]:
    """Kappa for every pair of annotators over the items both rated."""
    results = []
    for first, second in combinations(sorted(ratings_by_annotator), 2):
        shared = sorted(set(ratings_by_annotator[first]) & set(ratings_by_annotator[second]), key=str)
        kappa = cohen_kappa(
            [ratings_by_annotator[first][item] for item in shared],
            [ratings_by_annotator[second][item] for item in shared],
        )
        results.append({"pair": (first, second), "items": len(shared), "kappa": kappa})
    return results
