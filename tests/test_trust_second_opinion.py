"""The trust score: thresholds judge confidence with the keyword rules' second opinion (ml.second_opinion)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from labeling.models import GoldLabel, Provenance, ReviewReason, ReviewStatus, ReviewTask, Split
from ml.second_opinion import CONFIRMS, CONTRADICTS, SILENT, TrustScore, rules_opinion
from ml.text import prepare_text
from predictions.model_store import forget_serving_state
from predictions.models import ModelStatus, ModelVersion
from predictions.selectors.trust import trust_audits
from predictions.services import model_version_train, predictions_create
from predictions.services.serving import predict_text
from tests.factories import SYNTHETIC, make_active_model, make_content

pytestmark = pytest.mark.django_db

# A contradiction costs a prediction three logits of trust; confirmation and silence leave its confidence as it is.
SCORE = TrustScore(intercept=0.0, confidence_weight=1.0, confirms_weight=0.0, contradicts_weight=-3.0)
CONFIRMED = dict(title="monitoring models in production 9", description="A note on monitoring models in production.")
CONTRADICTED = dict(
    title="deploying models with kubernetes 9",
    description="A note on deploying image classification and video detection models.",
)


def _with_score(version: ModelVersion, score: TrustScore | None, threshold: float) -> ModelVersion:
    validation = {"folds": 3, "share": 0.2, "precision": 0.95, "threshold": threshold, "items": [[0.9, True]]}
    if score is not None:
        validation["trust_score"] = score.to_dict()
    ModelVersion.objects.filter(pk=version.pk).update(
        review_threshold=threshold, cv_metrics={**(version.cv_metrics or {}), "time_validation": validation}
    )
    forget_serving_state()
    version.refresh_from_db()
    return version


def test_an_item_the_rules_contradict_goes_to_review_though_its_confidence_is_above_the_threshold(
    client, tags, model_dir, settings, reviewer
):
    settings.TAGLOOP_AUDIT_SHARE = 0.0  # no audit draws: every item is judged by its threshold alone
    version = _with_score(make_active_model(tags), SCORE, 0.7)
    confirmed, contradicted = make_content(source="feed", **CONFIRMED), make_content(source="feed", **CONTRADICTED)
    # The premise: the model is sure enough of both (mlops) for the bare threshold, and the rules differ on them.
    answers = {name: predict_text(**item) for name, item in (("confirmed", CONFIRMED), ("contradicted", CONTRADICTED))}
    assert {a.tag for a in answers.values()} == {"mlops"} and min(a.confidence for a in answers.values()) >= 0.7
    assert rules_opinion(prepare_text(**CONFIRMED), "mlops") == CONFIRMS
    assert rules_opinion(prepare_text(**CONTRADICTED), "mlops") == CONTRADICTS
    assert not answers["confirmed"].needs_review and answers["contradicted"].needs_review

    predictions_create(model_version_id=version.pk, content_ids=[confirmed.pk, contradicted.pk])
    low = ReviewTask.objects.filter(reason=ReviewReason.LOW_CONFIDENCE, status=ReviewStatus.OPEN)
    assert list(low.values_list("content_id", flat=True)) == [contradicted.pk]

    # /monitoring/ says why: the confidence each opinion needs at the threshold in force.
    ReviewTask.objects.create(
        content=confirmed,
        reason=ReviewReason.AUDIT_SAMPLE,
        status=ReviewStatus.DONE,
        model_version=version.number,
        predicted_tag="mlops",
        probabilities={"mlops": 0.9, "other": 0.1},
        resolved_at=timezone.now(),
    )
    GoldLabel.objects.create(content=confirmed, tag=tags["mlops"], provenance=Provenance.ANNOTATOR, split=Split.TRAIN)
    client.force_login(reviewer)
    page = client.get(reverse("monitoring:page")).content.decode()
    assert 'id="trust-second-opinion"' in page
    needed = [SCORE.confidence_needed(0.7, opinion) for opinion in (CONFIRMS, SILENT, CONTRADICTS)]
    assert " / ".join(f"{n:.3f}" for n in needed) in page  # 0.700 / 0.700 / 0.979


def test_without_a_trust_score_the_threshold_judges_the_confidence(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = _with_score(make_active_model(tags), None, 0.7)
    contradicted = make_content(source="feed", **CONTRADICTED)
    assert not predict_text(**CONTRADICTED).needs_review
    predictions_create(model_version_id=version.pk, content_ids=[contradicted.pk])
    assert not ReviewTask.objects.filter(reason=ReviewReason.LOW_CONFIDENCE).exists()


def test_audits_count_at_their_trust_score(tags):
    version = ModelVersion.objects.create(
        number=1, algorithm="tfidf-linear", status=ModelStatus.ACTIVE, review_threshold=0.7
    )
    version = _with_score(version, SCORE, 0.7)
    for item in (CONFIRMED, CONTRADICTED):
        content = make_content(source="feed", **item)
        ReviewTask.objects.create(
            content=content,
            reason=ReviewReason.AUDIT_SAMPLE,
            status=ReviewStatus.DONE,
            model_version=1,
            predicted_tag="mlops",
            probabilities={"mlops": 0.9, "other": 0.1},
            resolved_at=timezone.now(),
        )
        GoldLabel.objects.create(content=content, tag=tags["mlops"], provenance=Provenance.ANNOTATOR, split=Split.TRAIN)
    found = [a.confidence for a in trust_audits(version=version)]
    assert found == pytest.approx([SCORE.score(0.9, CONFIRMS), SCORE.score(0.9, CONTRADICTS)])
    assert found[1] < 0.7 <= found[0]  # the contradicted audit is not among what the threshold accepts


def test_a_retrain_fits_the_score_on_its_time_ordered_validation_and_proves_its_threshold_on_it(
    tags, model_dir, client, admin_user
):
    # Some labels are wrong, spread over time, so every slice of the validation holds errors to learn from.
    slugs = list(SYNTHETIC)
    for copy in range(8):
        for n, (slug, phrases) in enumerate(SYNTHETIC.items()):
            for k, phrase in enumerate(phrases):
                wrong = (copy * 20 + n * 5 + k) % 6 == 0
                content = make_content(title=f"{phrase} {copy}", description=f"A note on {phrase}.")
                tag = slugs[(n + 1) % 4] if wrong else slug
                GoldLabel.objects.create(
                    content=content, tag=tags[tag], provenance=Provenance.IMPORTED, split=Split.TRAIN
                )
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    validation = version.cv_metrics["time_validation"]
    score = TrustScore.from_dict(validation["trust_score"])
    assert score.confidence_weight > 0
    # The stored items are (cross-fitted trust score, right): the threshold is proven on that scale.
    assert all(0 < s < 1 for s, _ in validation["items"])
    assert version.review_threshold >= validation["threshold"]
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-detail", args=[version.number])).content.decode()
    assert "on the trust score" in page


def test_emerging_topic_candidates_are_the_items_the_review_rule_finds_unsure(tags, model_dir, settings):
    from predictions.services.emerging import _candidates

    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = _with_score(make_active_model(tags), SCORE, 0.7)
    confirmed, contradicted = make_content(source="feed", **CONFIRMED), make_content(source="feed", **CONTRADICTED)
    predictions_create(model_version_id=version.pk, content_ids=[confirmed.pk, contradicted.pk])
    # Both are above 0.7 in confidence; only the contradicted one's trust score is below it, as in review.
    assert [pk for pk, _, _ in _candidates(version)] == [contradicted.pk]
    # Without a trust score the confidence is what the threshold judges: neither is unsure.
    assert _candidates(_with_score(version, None, 0.7)) == []
    # A stricter threshold (as the trust policy may put in force): both are.
    assert {pk for pk, _, _ in _candidates(_with_score(version, None, 0.9999))} == {confirmed.pk, contradicted.pk}


def test_one_acceptance_score_is_the_many_scores_case_and_both_are_the_score_of_the_rules_opinion(tags):
    """acceptance_score, acceptance_scores (a chunk, the audits, the emerging topics) and acceptance_scorer (the
    online path's, made once per served version) give the same floats.

    Checked against the score as first written (the stored score of the rules' opinion, or the confidence),
    on the real dataset and on crafted texts and tags.
    """
    import random

    from ml.dataset import read_labelled_csv
    from ml.rules import KEYWORDS
    from predictions.selectors.trust import acceptance_below, acceptance_score, acceptance_scorer, acceptance_scores
    from tests.ml.conftest import dataset_path
    from tests.test_ood_speed_equivalence import TRICKY

    rng = random.Random(12)
    items = read_labelled_csv(dataset_path())
    texts = [prepare_text(item.title, item.description) for item in items] + list(TRICKY)
    texts += [prepare_text(**CONFIRMED), prepare_text(**CONTRADICTED)]
    choices = [*sorted(KEYWORDS), "unknown-tag", ""]
    tags_ = [rng.choice(choices) for _ in texts]
    confidences = [0.0, 1.0, 0.5, *(rng.random() for _ in texts[3:])]
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", review_threshold=0.7)
    for score in (SCORE, TrustScore(-0.4, 1.3, 0.7, -1.9), None):
        version = _with_score(version, score, 0.7)
        many = acceptance_scores(version, texts=texts, tags=tags_, confidences=confidences)
        one = [acceptance_score(version, text=t, tag=g, confidence=c) for t, g, c in zip(texts, tags_, confidences)]
        scorer = acceptance_scorer(version)
        served = [scorer(t, g, c) for t, g, c in zip(texts, tags_, confidences)]
        if score is None:
            expected = confidences
        else:
            expected = [score.score(c, rules_opinion(t, g)) for t, g, c in zip(texts, tags_, confidences)]
        assert many == one == served == expected
        assert acceptance_scores(version, texts=[], tags=[], confidences=[]) == []
        # A chunk's verdicts: the same comparisons, with thresholds of several sources (the first one a score's own).
        thresholds = [rng.choice([expected[0], 0.7, 0.95, 0.3]) for _ in texts]
        verdicts = acceptance_below(version, texts=texts, tags=tags_, confidences=confidences, thresholds=thresholds)
        assert verdicts == [s < t for s, t in zip(expected, thresholds)]
        assert 0 < sum(verdicts) < len(verdicts)
