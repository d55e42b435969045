"""Emerging topics: clusters of unsure or flagged items on /monitoring/, turned into a tag by an admin."""

import pytest
from django.urls import reverse
from django.utils import timezone

from common.errors import ApplicationError
from labeling.models import GoldLabel, Provenance, ReviewReason, ReviewStatus, ReviewTask, Tag
from labeling.services import review_task_answer, review_task_next
from predictions.model_store import load_version
from predictions.models import (
    EmergingTopic,
    EmergingTopicStatus,
    ModelEvent,
    ModelEventAction,
    ModelStatus,
    ModelVersion,
)
from predictions.services import (
    drift_check_request,
    emerging_topic_to_tag,
    emerging_topics_refresh,
    model_version_train,
    predictions_create,
)
from tests.factories import make_active_model, make_content

# A field the synthetic training data has never seen.
QUANTUM = [
    ("Variational quantum eigensolver on noisy qubits", "Quantum circuits estimate molecular ground state energy."),
    ("Quantum annealing for scheduling", "Qubits and quantum annealers solve combinatorial scheduling."),
    ("Error mitigation for quantum circuits", "Noisy qubits; quantum error mitigation by extrapolation."),
    ("Quantum kernels for classification", "Quantum circuits map data to qubits as a feature map."),
    ("Simulating quantum circuits with tensor networks", "Qubits, entanglement and quantum gates simulated fast."),
    ("Benchmarking qubits on cloud quantum hardware", "Quantum volume and gate fidelity across qubits."),
    ("Quantum approximate optimization for max-cut", "Quantum circuits with qubits tuned by a classical loop."),
]
UNRELATED = [
    ("Cheap flights and hotel deals this summer", "Book your holiday today with free cancellation."),
    ("Grandma's apple pie", "Flaky crust, cinnamon and apples, bake for fifty minutes."),
]


def stream(version):
    items = [make_content(title=t, description=d) for t, d in QUANTUM + UNRELATED]
    predictions_create(model_version_id=version.pk, content_ids=[item.pk for item in items])
    return items[: len(QUANTUM)]


@pytest.fixture
def topic(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    quantum = stream(version)
    topics = emerging_topics_refresh()
    assert topics, "the quantum items should form a topic"
    return topics[0], quantum


@pytest.mark.django_db
def test_unsure_or_flagged_items_of_a_new_field_surface_as_the_top_topic(topic):
    found, quantum = topic
    assert found.rank == 1 and found.status == EmergingTopicStatus.OPEN
    assert {"quantum", "qubits"} & set(found.top_terms[:3])
    members = set(found.content_ids)
    assert len(members & {item.pk for item in quantum}) >= 5
    assert len(members - {item.pk for item in quantum}) <= 1  # pure: at most one stray item


@pytest.mark.django_db
def test_a_refresh_replaces_open_topics_and_keeps_tagged_ones(topic, admin_user):
    found, _ = topic
    emerging_topic_to_tag(topic=found, slug="quantum-ml", name="Quantum ML", user=admin_user)
    emerging_topics_refresh()
    assert EmergingTopic.objects.filter(pk=found.pk, status=EmergingTopicStatus.TAGGED).exists()
    assert EmergingTopic.objects.filter(status=EmergingTopicStatus.OPEN).count() <= 8


@pytest.mark.django_db
def test_turning_a_topic_into_a_tag_queues_its_items_and_the_next_retrain_learns_the_class(
    topic, admin_user, annotator, tags
):
    found, quantum = topic
    tag = emerging_topic_to_tag(topic=found, slug="quantum-ml", name="Quantum ML", user=admin_user)
    assert Tag.objects.get(slug="quantum-ml").position > max(t.position for t in tags.values())
    queued = ReviewTask.objects.filter(reason=ReviewReason.EMERGING_TOPIC, status=ReviewStatus.OPEN)
    assert set(queued.values_list("content_id", flat=True)) == set(found.content_ids)
    with pytest.raises(ApplicationError, match="already"):
        emerging_topic_to_tag(topic=found, slug="quantum-again", name="Again", user=admin_user)
    # Annotators answer a few of them with the new tag: few examples, and training copes.
    answered = 0
    while (task := review_task_next(user=annotator, reason=ReviewReason.EMERGING_TOPIC)) and answered < 4:
        if task.content_id in {item.pk for item in quantum}:
            review_task_answer(task_id=task.pk, user=annotator, tag=tag)
            answered += 1
        else:
            review_task_answer(task_id=task.pk, user=annotator, tag=Tag.objects.get(slug="other"))
    assert GoldLabel.objects.filter(tag=tag).count() >= 3
    version = ModelVersion.objects.create(number=99, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    assert version.status == "candidate", version.error
    assert "quantum-ml" in list(load_version(version).classes_)
    assert load_version(version).predict(["variational quantum circuits on noisy qubits"])[0] == "quantum-ml"


@pytest.mark.django_db
def test_the_review_screen_offers_the_new_tag(client, topic, admin_user, annotator):
    found, _ = topic
    emerging_topic_to_tag(topic=found, slug="quantum-ml", name="Quantum ML", user=admin_user)
    client.force_login(annotator)
    task = review_task_next(user=annotator, reason=ReviewReason.EMERGING_TOPIC)
    page = client.get(reverse("labeling:review-task", args=[task.pk])).content.decode()
    assert 'value="quantum-ml" data-key="5"' in page


@pytest.mark.django_db
def test_monitoring_shows_the_topic_and_only_admins_may_turn_it_into_a_tag(client, topic, reviewer, admin_user):
    found, _ = topic
    client.force_login(reviewer)
    page = client.get(reverse("monitoring:page")).content.decode()
    assert f'data-emerging-topic="{found.pk}"' in page and found.top_terms[0] in page
    assert "Turn into a tag" not in page  # reviewers see topics, admins act on them
    url = reverse("monitoring:emerging-tag", args=[found.pk])
    assert client.post(url, {"slug": "quantum-ml", "name": "Quantum ML"}).status_code == 403
    assert not Tag.objects.filter(slug="quantum-ml").exists()
    client.force_login(admin_user)
    assert "Turn into a tag" in client.get(reverse("monitoring:page")).content.decode()
    response = client.post(url, {"slug": "quantum ml!", "name": "Quantum ML"})
    assert response.status_code == 302 and not Tag.objects.filter(name="Quantum ML").exists()  # bad slug: nothing
    response = client.post(url, {"slug": "quantum-ml", "name": "Quantum ML"}, follow=True)
    assert "Tag &#x27;quantum-ml&#x27; created" in response.content.decode()
    assert Tag.objects.filter(slug="quantum-ml").exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_finds_topics_when_it_runs_the_drift_check(celery_worker_process, tags, settings):
    from tests.conftest import wait_until

    settings.TAGLOOP_AUDIT_SHARE = 0.0
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    version = make_active_model(tags)
    quantum = stream(version)
    drift_check_request()
    found = wait_until(
        lambda: EmergingTopic.objects.filter(rank=1).first(), timeout=120, message="the worker's emerging topics"
    )
    assert found.model_version_id == version.pk
    assert len(set(found.content_ids) & {item.pk for item in quantum}) >= 5


@pytest.mark.django_db
def test_turning_a_topic_into_a_tag_is_recorded_in_the_model_audit_trail_and_shown_with_the_others(
    client, topic, admin_user, tags
):
    found, quantum = topic
    # One of its items has a gold label already: it is not sent to review again, and the record says so.
    labelled = found.content_ids[0]
    GoldLabel.objects.create(content_id=labelled, tag=tags["other"], provenance=Provenance.ANNOTATOR)
    client.force_login(admin_user)
    before = timezone.now()
    response = client.post(
        reverse("monitoring:emerging-tag", args=[found.pk]), {"slug": "quantum-ml", "name": "Quantum ML"}, follow=True
    )
    after = timezone.now()
    # The admin is told how many went to review, not the topic's size.
    assert f"{found.size - 1} of the topic&#x27;s {found.size} items went to the review queue" in (
        response.content.decode()
    )

    event = ModelEvent.objects.get(action=ModelEventAction.TOPIC_TAGGED)
    found.refresh_from_db()
    queued = ReviewTask.objects.filter(reason=ReviewReason.EMERGING_TOPIC)
    assert queued.count() == found.size - 1 and not queued.filter(content_id=labelled).exists()
    assert event.actor == admin_user
    assert before <= event.created_at <= after and event.created_at == found.tagged_at
    assert event.model_version_id == found.model_version_id
    assert event.details == {
        "topic": found.pk,
        "rank": found.rank,
        "tag": "quantum-ml",
        "tag_name": "Quantum ML",
        "top_terms": found.top_terms,
        "items": found.size,
        "to_review": found.size - 1,
    }
    sent = f"{found.size - 1} of its {found.size} items sent to review"
    number = found.model_version.number

    models_page = client.get(reverse("predictions:model-list")).content.decode()
    row = models_page[models_page.index("emerging topic turned into a tag") :].split("</tr>")[0]
    assert "<code>quantum-ml</code>" in row and sent in row
    assert all(f"<code>{term}</code>" in row for term in found.top_terms[:5])
    assert f"<td>{admin_user.username}</td>" in row and f"v{number}" in row
    detail = client.get(reverse("predictions:model-detail", args=[number])).content.decode()
    assert "emerging topic turned into a tag" in detail and sent in detail and f"by {admin_user.username}" in detail
    [api_event] = [
        e for e in client.get(f"/api/v1/model-versions/{number}").json()["events"] if e["action"] == "topic_tagged"
    ]
    assert api_event["actor"] == admin_user.username and api_event["details"] == event.details
    monitoring = client.get(reverse("monitoring:page")).content.decode()
    assert f"turned into <strong>quantum-ml</strong> <small>by {admin_user.username}," in monitoring


@pytest.mark.django_db
def test_a_refused_tag_records_nothing_and_each_topic_is_recorded_once(topic, admin_user, tags):
    found, _ = topic
    with pytest.raises(ApplicationError, match="exists already"):
        emerging_topic_to_tag(topic=found, slug="mlops", name="MLOps again", user=admin_user)
    assert not ModelEvent.objects.filter(action=ModelEventAction.TOPIC_TAGGED).exists()
    emerging_topic_to_tag(topic=found, slug="quantum-ml", name="Quantum ML", user=admin_user)
    with pytest.raises(ApplicationError, match="already"):
        emerging_topic_to_tag(topic=found, slug="quantum-again", name="Again", user=admin_user)
    assert ModelEvent.objects.filter(action=ModelEventAction.TOPIC_TAGGED).count() == 1


@pytest.mark.django_db
def test_a_topic_whose_version_was_deleted_is_recorded_against_the_active_one_or_refused_without_one(
    topic, admin_user, tags
):
    found, _ = topic
    clustered_by = found.model_version
    other = ModelVersion.objects.create(number=clustered_by.number + 1, algorithm="tfidf-linear")
    EmergingTopic.objects.filter(pk=found.pk).update(model_version=None)  # as a deleted version leaves it
    ModelVersion.objects.filter(pk=clustered_by.pk).update(status=ModelStatus.RETIRED)
    with pytest.raises(ApplicationError, match="no model is active") as refused:
        emerging_topic_to_tag(topic=found, slug="quantum-ml", name="Quantum ML", user=admin_user)
    assert refused.value.code == "no_model_version"
    assert not Tag.objects.filter(slug="quantum-ml").exists()
    assert not ReviewTask.objects.filter(reason=ReviewReason.EMERGING_TOPIC).exists()
    ModelVersion.objects.filter(pk=other.pk).update(status=ModelStatus.ACTIVE)
    emerging_topic_to_tag(topic=found, slug="quantum-ml", name="Quantum ML", user=admin_user)
    assert ModelEvent.objects.get(action=ModelEventAction.TOPIC_TAGGED).model_version_id == other.pk
