"""The models page follows a re-prediction by itself and stops polling when it is done."""
import pytest
from django.urls import reverse

from labeling.models import Content
from predictions.services import predictions_create
from tests.factories import make_active_model, make_content

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
