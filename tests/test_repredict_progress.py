"""The models page follows a re-prediction by itself and stops polling when it is done."""

import pytest
from django.urls import reverse

from labeling.models import Content
from predictions.services import (
    model_version_promote,
    model_version_rollback,
    predictions_create,
)
from tests.factories import make_active_model, make_candidate, make_content

pytestmark = pytest.mark.django_db


def test_the_active_line_polls_until_every_item_is_predicted(client, tags, model_dir, admin_user):
    active = make_active_model(tags)  # the promotion's re-prediction is queued for workers, none run here
    make_content(title="a new item")
    ids = list(Content.objects.order_by("pk").values_list("pk", flat=True))
    predictions_create(model_version_id=active.pk, content_ids=ids[:-1])
    client.force_login(admin_user)
    listing = client.get(reverse("predictions:model-list")).content.decode()
    line_url = reverse("predictions:model-active-line")
    assert f'hx-get="{line_url}"' in listing
    line = client.get(line_url).content.decode()
    assert f"{len(ids) - 1} of {len(ids)} items" in line and "hx-trigger" in line
    predictions_create(model_version_id=active.pk, content_ids=ids[-1:])
    line = client.get(line_url).content.decode()
    assert f"{len(ids)} of {len(ids)} items" in line and "hx-get" not in line


def test_a_rolled_back_to_version_counts_only_this_activation_and_still_reaches_every_item(
    client, tags, model_dir, admin_user
):
    first = make_active_model(tags)
    ids = list(Content.objects.order_by("pk").values_list("pk", flat=True))
    predictions_create(model_version_id=first.pk, content_ids=ids)  # v1 predicted every item once
    second = make_candidate("majority")
    model_version_promote(model_version=second, override_reason="try the floor")
    predictions_create(model_version_id=second.pk, content_ids=ids)
    model_version_rollback(reason="v2 tags everything the same")
    client.force_login(admin_user)
    line_url = reverse("predictions:model-active-line")
    # Back to v1: none of its re-prediction ran yet, whatever it predicted before.
    line = client.get(line_url).content.decode()
    assert f"0 of {len(ids)} items" in line and "hx-trigger" in line
    # Texts unchanged: the chunks reuse v1's stored answers, and that is the re-prediction's work too.
    predictions_create(model_version_id=first.pk, content_ids=ids[:-1])
    line = client.get(line_url).content.decode()
    assert f"{len(ids) - 1} of {len(ids)} items" in line and "hx-trigger" in line
    predictions_create(model_version_id=first.pk, content_ids=ids[-1:])
    line = client.get(line_url).content.decode()
    assert f"{len(ids)} of {len(ids)} items" in line and "hx-get" not in line
