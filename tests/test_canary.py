"""Canary rollout: a candidate serves a sticky share beside the active model; both answers are recorded and compared."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from labeling.models import Content, GoldLabel, Provenance, Split
from labeling.services import review_task_answer, review_task_next
from ml.text import prepare_text
from predictions.models import Canary, CanaryArm, CanaryServing, ModelEvent, ModelStatus, ModelVersion, Prediction
from predictions.selectors.canary_report import canary_report
from predictions.services import (
    CanaryError,
    PromotionBlocked,
    canary_start,
    canary_stop,
    model_version_promote,
    model_version_rollback,
    predictions_create,
)
from predictions.services.canary import arm_for, canary_beside, content_key, routes_to_candidate, text_key
from tests.factories import make_active_model, make_candidate, make_content, make_gold_dataset

pytestmark = pytest.mark.django_db

TITLES = [
    f"{topic} {n}"
    for n in range(10)
    for topic in (
        "image segmentation with convolutional networks",
        "text classification with transformers",
        "deploying models with kubernetes",
        "graph neural networks for molecules",
    )
]


@pytest.fixture
def active(tags, model_dir):
    return make_active_model(tags)


@pytest.fixture
def majority(active):
    """A candidate that always answers the same tag, unsure: it disagrees with the active model on most items."""
    return make_candidate("majority")


def _stream(n: int | None = None) -> list[int]:
    return [make_content(title=title, description="").pk for title in TITLES[:n]]


def test_routing_is_sticky_per_item_takes_the_share_and_an_equal_control_group(active, majority):
    first = Canary(pk=1, candidate=majority, baseline=active, share=0.2)
    second = Canary(pk=2, candidate=majority, baseline=active, share=0.2)
    keys = [content_key(n) for n in range(10_000)]
    arms = [arm_for(first, key) for key in keys]
    assert arms == [arm_for(first, key) for key in keys]
    for arm in (CanaryArm.CANDIDATE, CanaryArm.BASELINE):
        assert 0.18 < arms.count(arm) / len(keys) < 0.22
    assert 0.58 < arms.count(None) / len(keys) < 0.62
    assert [a == CanaryArm.CANDIDATE for a in arms] == [routes_to_candidate(first, key) for key in keys]
    other = [arm_for(second, key) for key in keys]
    assert arms != other and 0.18 < other.count(CanaryArm.CANDIDATE) / len(keys) < 0.22


def test_a_canary_needs_a_candidate_an_active_model_a_share_in_range_and_passing_gates(
    tags, model_dir, admin_user, settings
):
    make_gold_dataset(tags)
    lonely = make_candidate("tfidf-linear")
    with pytest.raises(CanaryError, match="no model is active"):
        canary_start(candidate=lonely, started_by=admin_user)
    active = model_version_promote(model_version=lonely)
    candidate = make_candidate("majority")
    with pytest.raises(CanaryError, match="only a trained candidate"):
        canary_start(candidate=active)
    with pytest.raises(CanaryError, match="at most 50%"):
        canary_start(candidate=candidate, share=0.6, override_reason="x")
    settings.TAGLOOP_CANARY_MAX_SHARE = 0.9  # the control group still caps it at half
    with pytest.raises(CanaryError, match="at most 50%"):
        canary_start(candidate=candidate, share=0.6, override_reason="x")
    with pytest.raises(PromotionBlocked) as blocked:
        canary_start(candidate=candidate, share=0.1, started_by=admin_user)
    assert any("overall F1" in failure for failure in blocked.value.failures)
    canary = canary_start(candidate=candidate, share=0.1, started_by=admin_user, override_reason="see it live")
    assert (canary.baseline, canary.share, canary.running) == (active, 0.1, True)
    event = ModelEvent.objects.first()
    assert (event.action, event.model_version, event.previous_version, event.actor, event.reason) == (
        "canary_started",
        candidate,
        active,
        admin_user,
        "see it live",
    )
    assert event.gate_failures
    with pytest.raises(CanaryError, match="already running"):
        canary_start(candidate=candidate, share=0.1, override_reason="again")
    settings.TAGLOOP_CANARY_SHARE = 0.3
    canary_stop(canary=canary, stopped_by=admin_user)
    assert canary_start(candidate=candidate, override_reason="default share").share == 0.3


def test_the_database_allows_one_running_canary(active, majority):
    Canary.objects.create(candidate=majority, baseline=active, share=0.1)
    with pytest.raises(IntegrityError):
        Canary.objects.create(candidate=majority, baseline=active, share=0.1)


def test_new_content_in_the_canary_or_its_control_is_answered_by_both_and_served_by_its_group(active, majority):
    canary = canary_start(candidate=majority, share=0.3, override_reason="try")
    ids = _stream()
    assert predictions_create(model_version_id=active.pk, content_ids=ids) == len(ids)
    arms = {content_id: arm_for(canary, content_key(content_id)) for content_id in ids}
    recorded = {c for c, arm in arms.items() if arm is not None}
    assert 0 < len(recorded) < len(ids)
    # The candidate answers only the canary and its control group; the rest costs nothing extra.
    assert set(Prediction.objects.filter(model_version=majority).values_list("content_id", flat=True)) == recorded
    servings = {s.content_id: s for s in CanaryServing.objects.filter(canary=canary)}
    assert set(servings) == recorded
    assert all(servings[c].served == arms[c] for c in recorded)
    shown = dict(Content.objects.filter(pk__in=ids).values_list("pk", "current_model_version"))
    for content_id in ids:
        expected = majority.number if arms[content_id] == CanaryArm.CANDIDATE else active.number
        assert shown[content_id] == expected
    candidate_items = [c for c in ids if arms[c] == CanaryArm.CANDIDATE]
    assert candidate_items
    # The unsure candidate sends the items it serves to review, with its own answer in the snapshot
    # (a few are audit samples instead, reviewed blind whatever the confidence)
    from labeling.models import ReviewTask

    tasks = ReviewTask.objects.filter(
        content_id__in=candidate_items, reason__in=["low_confidence", "audit_sample"], status="open"
    )
    assert tasks.count() == len(candidate_items)
    assert {task.model_version for task in tasks} == {majority.number}
    # Running the chunk again changes nothing.
    predictions_create(model_version_id=active.pk, content_ids=ids)
    assert CanaryServing.objects.filter(canary=canary).count() == len(recorded)
    assert set(CanaryServing.objects.filter(canary=canary).values_list("requests", flat=True)) == {0}


def test_stopping_serves_the_candidates_items_with_the_active_model_again(active, majority, admin_user):
    canary = canary_start(candidate=majority, share=0.5, override_reason="try")
    ids = _stream()
    predictions_create(model_version_id=active.pk, content_ids=ids)
    canary_stop(canary=canary, stopped_by=admin_user, reason="enough")
    canary.refresh_from_db()
    assert (canary.running, canary.ended_by, canary.end_reason) == (False, admin_user, "enough")
    with pytest.raises(CanaryError, match="already ended"):
        canary_stop(canary=canary)
    predictions_create(model_version_id=active.pk, content_ids=ids)  # what the enqueued chunk does on a worker
    assert set(Content.objects.filter(pk__in=ids).values_list("current_model_version", flat=True)) == {active.number}


def test_a_chunk_finds_the_canary_beside_its_version_only_while_it_runs(active, majority, admin_user):
    assert canary_beside(active) is None
    canary = canary_start(candidate=majority, share=0.5, override_reason="try")
    beside = canary_beside(active)
    assert beside == canary and beside.candidate == majority and beside.baseline == active
    assert canary_beside(majority) is None  # the candidate's own chunks run no shadow
    canary_stop(canary=canary, stopped_by=admin_user, reason="enough")
    assert canary_beside(active) is None


def test_a_promotion_or_rollback_ends_the_running_canary(active, majority, admin_user):
    canary = canary_start(candidate=majority, share=0.2, override_reason="try")
    model_version_promote(model_version=majority, promoted_by=admin_user, override_reason="go")
    canary.refresh_from_db()
    assert not canary.running and "v2 became the active model" in canary.end_reason
    assert ModelEvent.objects.filter(action="canary_ended", model_version=majority).exists()
    model_version_rollback(rolled_back_by=admin_user, reason="back to v1")
    assert not Canary.objects.filter(running=True).exists()


def test_online_predictions_follow_the_item_and_record_both_answers_in_the_canary_and_control(client, active, majority):
    canary = canary_start(candidate=majority, share=0.3, override_reason="try")
    content = [make_content(title=title, description="") for title in TITLES]
    url = reverse("api-predict")
    for item in content:
        for _ in range(2):
            body = client.post(
                url, {"title": item.title, "content_id": item.pk}, content_type="application/json"
            ).json()
            routed = routes_to_candidate(canary, content_key(item.pk))
            assert body["canary"] is routed
            assert body["model_version"] == (majority.number if routed else active.number)
    rows = CanaryServing.objects.filter(canary=canary)
    in_canary = {item.pk for item in content if arm_for(canary, content_key(item.pk))}
    assert set(rows.values_list("content_id", flat=True)) == in_canary and len(in_canary) < len(content)
    assert set(rows.values_list("requests", flat=True)) == {2}
    assert set(rows.values_list("channel", flat=True)) == {"api"}
    # Without an item, the text decides: the same text always gets the same model.
    texts = {
        arm_for(canary, text_key(prepare_text(title, ""))): title for title in (f"new text {n}" for n in range(40))
    }
    for arm in (CanaryArm.CANDIDATE, None):
        answers = {
            client.post(url, {"title": texts[arm]}, content_type="application/json").json()["model_version"]
            for _ in range(3)
        }
        assert answers == {majority.number if arm else active.number}
    assert CanaryServing.objects.get(canary=canary, content=None).requests == 3  # only the text in the canary
    response = client.post(url, {"title": "x", "content_id": 999999}, content_type="application/json")
    assert response.status_code == 400 and "content_id" in response.json()["errors"]


def test_a_stored_item_gets_the_model_its_page_shows_and_only_items_the_canary_routed_are_counted(
    client, active, majority
):
    before = _stream()
    predictions_create(model_version_id=active.pk, content_ids=before)  # stored and tagged before the canary
    canary = canary_start(candidate=majority, share=0.5, override_reason="try")
    during = [make_content(title=f"{title} later", description="").pk for title in TITLES]
    predictions_create(model_version_id=active.pk, content_ids=during)  # the workers route new content
    # The bug: old items whose hash falls in the candidate's share were answered by the candidate.
    shown_by_active = Content.objects.filter(pk__in=before, current_model_version=active.number)
    assert any(routes_to_candidate(canary, content_key(item.pk)) for item in shown_by_active)
    routed = {pk: arm_for(canary, content_key(pk)) for pk in during}
    assert CanaryArm.CANDIDATE in routed.values() and CanaryArm.BASELINE in routed.values()
    for item in Content.objects.filter(pk__in=before + during):
        body = client.post(
            reverse("api-predict"), {"title": item.title, "content_id": item.pk}, content_type="application/json"
        ).json()
        by_candidate = routed.get(item.pk) == CanaryArm.CANDIDATE
        assert (body["model_version"], body["canary"]) == (
            (majority.number, True) if by_candidate else (active.number, False)
        ), item.pk
        # The same model as the page, where the page shows a model's tag (not an out-of-distribution flag).
        assert item.current_model_version in (None, body["model_version"])
    rows = CanaryServing.objects.filter(canary=canary)
    # Only items the canary routed are in it, each request counted on its record; none from before.
    assert dict(rows.values_list("content_id", "served")) == {pk: arm for pk, arm in routed.items() if arm}
    assert set(rows.values_list("channel", "requests")) == {("stream", 1)}


def test_without_a_canary_online_predictions_write_nothing(client, active):
    body = client.post(reverse("api-predict"), {"title": "object detection"}, content_type="application/json").json()
    assert (body["canary"], body["model_version"]) == (False, active.number)
    assert not CanaryServing.objects.exists()


def test_the_report_compares_both_answers_on_reviewed_items_and_counts_reports_per_arm(
    client, tags, active, majority, annotator
):
    canary = canary_start(candidate=majority, share=0.5, override_reason="try")
    ids = _stream()
    predictions_create(model_version_id=active.pk, content_ids=ids)
    servings = {s.content_id: s for s in CanaryServing.objects.filter(canary=canary).select_related("candidate_tag")}
    served_by_candidate = [c for c, s in servings.items() if s.served == CanaryArm.CANDIDATE]
    # One wrong-tag report on a candidate-served item, accepted by an annotator.
    reported = next(c for c in served_by_candidate if servings[c].candidate_tag.slug != _true_tag(c))
    client.post(reverse("api-content-reports", args=[reported]), {}, content_type="application/json")
    # People answer what the queue offers (reports first), always with the true tag.
    answered = []
    while (task := review_task_next(user=annotator)) is not None and len(answered) < 8:
        review_task_answer(task_id=task.pk, user=annotator, tag=tags[_true_tag(task.content_id)])
        answered.append(task.content_id)
    report = canary_report(canary)
    assert reported in answered and report.reviewed.n == len(set(answered))
    truth = [_true_tag(c) for c in answered]
    assert report.reviewed.baseline.correct == sum(servings[c].baseline_tag.slug == t for c, t in zip(answered, truth))
    assert report.reviewed.candidate.correct == sum(
        servings[c].candidate_tag.slug == t for c, t in zip(answered, truth)
    )
    assert report.candidate.items == len(served_by_candidate)
    assert report.baseline.items == len(ids) - len(served_by_candidate)
    assert (report.candidate.reports, report.candidate.accepted_reports, report.baseline.reports) == (1, 1, 0)
    assert report.candidate.report_rate == 1 / len(served_by_candidate)


def _true_tag(content_id: int) -> str:
    title = Content.objects.get(pk=content_id).title
    for phrase, tag in (
        ("image", "computer-vision"),
        ("text", "natural-language-processing"),
        ("kubernetes", "mlops"),
        ("graph", "other"),
    ):
        if phrase in title:
            return tag
    raise AssertionError(title)


def test_imported_labels_do_not_count_as_reviews(active, majority, tags):
    canary = canary_start(candidate=majority, share=0.5, override_reason="try")
    ids = _stream(4)
    predictions_create(model_version_id=active.pk, content_ids=ids)
    for content_id in ids:
        GoldLabel.objects.create(
            content_id=content_id, tag=tags[_true_tag(content_id)], provenance=Provenance.IMPORTED, split=Split.TRAIN
        )
    assert canary_report(canary).reviewed.n == 0


def test_admin_starts_watches_and_stops_a_canary_from_the_pages(client, active, majority, admin_user):
    client.force_login(admin_user)
    detail = client.get(reverse("predictions:model-detail", args=[majority.number])).content.decode()
    assert "Start a canary" in detail
    refused = client.post(
        reverse("predictions:canary-start", args=[majority.number]), {"share_percent": "10"}, follow=True
    )
    assert "Canary not started" in refused.content.decode() and not Canary.objects.exists()
    too_big = client.post(
        reverse("predictions:canary-start", args=[majority.number]),
        {"share_percent": "80", "override_reason": "x"},
        follow=True,
    )
    assert "Not started" in too_big.content.decode() and not Canary.objects.exists()
    page = client.post(
        reverse("predictions:canary-start", args=[majority.number]),
        {"share_percent": "25", "override_reason": "see it live"},
        follow=True,
    ).content.decode()
    canary = Canary.objects.get()
    assert canary.share == 0.25 and "Canary started" in page and "Stop the canary" in page
    assert "Canary running" in client.get(reverse("predictions:model-list")).content.decode()
    predictions_create(model_version_id=active.pk, content_ids=_stream(8))
    page = client.get(reverse("predictions:canary-detail", args=[canary.pk])).content.decode()
    assert "content items served" in page and "No canary item has been reviewed yet" in page
    stopped = client.post(reverse("predictions:canary-stop", args=[canary.pk]), {"reason": "seen enough"}, follow=True)
    assert "Canary stopped" in stopped.content.decode()
    canary.refresh_from_db()
    assert not canary.running and canary.end_reason == "seen enough"
    assert ModelVersion.objects.get(pk=majority.pk).status == ModelStatus.CANDIDATE


def test_the_canary_command_starts_reads_and_stops(active, majority, capsys):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="overall F1.*--override-reason"):
        call_command("canary", "start", str(majority.number), "--share", "0.2")
    call_command("canary", "start", str(majority.number), "--share", "0.2", "--override-reason", "try it")
    assert "serves 20.0% of items" in capsys.readouterr().out
    predictions_create(model_version_id=active.pk, content_ids=_stream())
    call_command("canary", "status")
    out = capsys.readouterr().out
    assert "candidate: v2 items" in out and "no canary item has been reviewed yet" in out
    call_command("canary", "stop", "--reason", "done")
    assert not Canary.objects.filter(running=True).exists()
    with pytest.raises(CommandError, match="no canary is running"):
        call_command("canary", "stop")


def test_report_rates_count_a_candidate_as_shown_only_where_the_canary_served_it(active, majority):
    from predictions.selectors import items_shown_per_version

    canary = canary_start(candidate=majority, share=0.3, override_reason="try")
    ids = _stream()
    predictions_create(model_version_id=active.pk, content_ids=ids)
    served = [c for c in ids if arm_for(canary, content_key(c)) == CanaryArm.CANDIDATE]
    # Shadow predictions of the candidate on every item are not shown to anyone.
    predictions_create(model_version_id=majority.pk, content_ids=ids)
    assert Prediction.objects.filter(model_version=majority).count() == len(ids)
    shown = items_shown_per_version()
    assert shown[majority.number] == len(served)
    assert shown[active.number] == Prediction.objects.filter(model_version=active).count()
    model_version_promote(model_version=majority, override_reason="promoted after the canary")
    # Its shadow answers count once its re-prediction has put them in force, not before.
    assert items_shown_per_version()[majority.number] == len(served)
    predictions_create(model_version_id=majority.pk, content_ids=ids)
    assert items_shown_per_version()[majority.number] == len(ids)
