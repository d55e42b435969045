"""A canary on real services: an admin starts it in the browser flow, the worker serves the stream with both models."""

import pytest
import requests
from django.core.management import call_command

from labeling.models import Content
from labeling.services import source_token_create
from predictions.models import Canary, CanaryArm, CanaryServing, ModelVersion, Prediction
from predictions.services.canary import content_key, routes_to_candidate
from tests.conftest import wait_until
from tests.factories import SYNTHETIC, make_gold_dataset
from tests.test_loop_end_to_end import _login, _post_form

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _train(capsys, *args) -> ModelVersion:
    call_command("train", "--wait", "--timeout", "240", *args)
    return ModelVersion.objects.get(number=int(capsys.readouterr().out.strip().splitlines()[-1]))


def test_canary_serves_its_share_of_the_stream_and_stopping_hands_it_back(
    celery_worker_process, live_server, settings, tags, admin_user, capsys
):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    base = live_server.url
    make_gold_dataset(tags)
    active = _train(capsys, "--algorithm", "tfidf-linear")
    call_command("promote", str(active.number))
    candidate = _train(capsys, "--algorithm", "majority")

    # The admin starts a canary from the candidate's page; the majority model fails the gates.
    admin = _login(base, admin_user.username, "pw-" + admin_user.username)
    page = f"/models/{candidate.number}/"
    started = _post_form(
        admin,
        base,
        page,
        f"/models/{candidate.number}/canary",
        {"share_percent": "50", "override_reason": "watch it on live items"},
    )
    assert "Canary started" in started.text
    canary = Canary.objects.get(running=True)

    # The stream arrives through the ingestion API; the worker answers with both models.
    _, key = source_token_create(source="feed", name="e2e")
    items = [
        {"id": f"s{n}", "title": f"{phrase} {n}", "description": ""}
        for n, phrase in enumerate(p for phrases in SYNTHETIC.values() for p in phrases)
    ]
    response = requests.post(f"{base}/api/v1/content", json=items, headers={"Authorization": f"Token {key}"})
    assert response.status_code in (200, 201), response.text
    stream = list(Content.objects.filter(source="feed").values_list("pk", flat=True))
    wait_until(
        lambda: CanaryServing.objects.filter(canary=canary).count() == len(stream),
        message="the worker to record both answers for the stream",
    )
    assert Prediction.objects.filter(model_version=candidate, content_id__in=stream).count() == len(stream)
    routed = {pk for pk in stream if routes_to_candidate(canary, content_key(pk))}
    assert routed and len(routed) < len(stream)
    # Items the per-item checks flag as unlike the training data show no model tag at all.
    shown = dict(
        Content.objects.filter(pk__in=stream, is_out_of_distribution=False).values_list("pk", "current_model_version")
    )
    assert len(shown) >= len(stream) // 2
    assert {pk for pk, number in shown.items() if number == candidate.number} == routed & set(shown)
    assert {pk for pk, number in shown.items() if number == active.number} == set(shown) - routed

    # Online predictions about a stored item follow the same arm as its page.
    one = next(iter(routed))
    answer = requests.post(f"{base}/api/v1/predict", json={"title": "anything", "content_id": one}).json()
    assert (answer["canary"], answer["model_version"]) == (True, candidate.number)
    canary_page = admin.get(f"{base}/models/canaries/{canary.pk}/")
    assert canary_page.ok and f"candidate v{candidate.number}" in canary_page.text

    # Stopping hands the candidate's items back to the active model, on the worker.
    stopped = _post_form(
        admin, base, f"/models/canaries/{canary.pk}/", f"/models/canaries/{canary.pk}/stop", {"reason": "seen enough"}
    )
    assert "Canary stopped" in stopped.text
    wait_until(
        lambda: (
            set(Content.objects.filter(pk__in=shown).values_list("current_model_version", flat=True)) == {active.number}
        ),
        message="the worker to serve the canary's items with the active model",
    )
    assert CanaryServing.objects.filter(canary=canary, served=CanaryArm.CANDIDATE).count() >= len(routed)
