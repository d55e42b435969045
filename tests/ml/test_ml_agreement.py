"""Agreement statistics on hand-computed examples."""

import pytest

from ml.agreement import cohen_kappa, krippendorff_alpha_nominal, pairwise_kappas


def test_cohen_kappa_matches_the_textbook_example():
    # 10 items: observed agreement 0.7; chance agreement 0.5 -> kappa 0.4
    first = ["a"] * 5 + ["b"] * 5
    second = ["a"] * 4 + ["b"] + ["a"] * 2 + ["b"] * 3
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_cohen_kappa_edge_cases():
    assert cohen_kappa(["a"], ["a"]) is None
    assert cohen_kappa(["a", "a"], ["a", "a"]) == 1.0
    with pytest.raises(ValueError):
        cohen_kappa(["a"], ["a", "b"])


def test_krippendorff_alpha_nominal_known_values():
    assert krippendorff_alpha_nominal({1: ["a", "a"], 2: ["b", "b"], 3: ["a", "a"]}) == pytest.approx(1.0)
    # Two coders, four items, one disagreement. Values: a x3, b x5 (n = 8).
    # D_o = 2/8; D_e = 2 * 3 * 5 / (8 * 7); alpha = 1 - D_o / D_e = 0.5333...
    alpha = krippendorff_alpha_nominal({1: ["a", "a"], 2: ["a", "b"], 3: ["b", "b"], 4: ["b", "b"]})
    assert alpha == pytest.approx(1 - (2 / 8) / (2 * 3 * 5 / (8 * 7)))
    assert alpha == pytest.approx(0.5333, abs=1e-4)
    assert krippendorff_alpha_nominal({1: ["a"]}) is None


def test_systematic_disagreement_gives_negative_alpha():
    assert krippendorff_alpha_nominal({i: ["a", "b"] for i in range(6)}) < 0


def test_pairwise_kappas_use_only_shared_items():
    ratings = {"ann": {1: "a", 2: "b", 3: "a"}, "bob": {1: "a", 2: "b", 4: "b"}, "cy": {5: "a"}}
    by_pair = {row["pair"]: row for row in pairwise_kappas(ratings)}
    assert by_pair[("ann", "bob")]["items"] == 2 and by_pair[("ann", "bob")]["kappa"] == 1.0
    assert by_pair[("ann", "cy")]["items"] == 0 and by_pair[("ann", "cy")]["kappa"] is None
