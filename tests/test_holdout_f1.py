"""Issue 15, bug 6: one holdout F1 per model and holdout, the same on every page, each labelled with what it was
measured on; a holdout that changed since a version's training is named as today's, beside the figure at training."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from labeling.models import GoldLabel, Split
from predictions.services import model_version_promote
from tests.factories import make_candidate, make_gold_dataset

pytestmark = pytest.mark.django_db


def _relabel_holdout(tags, count):
    """Give ``count`` holdout items another tag (as an accepted report would): the holdout changes."""
    for label in GoldLabel.objects.filter(split=Split.HOLDOUT).order_by("pk")[:count]:
        label.tag = tags["other"] if label.tag.slug != "other" else tags["mlops"]
        label.save(update_fields=["tag"])


@pytest.fixture
def active(tags, model_dir):
    make_gold_dataset(tags)
    _relabel_holdout(tags, 2)  # an imperfect holdout score, so the figure is worth reading
    version = make_candidate()
    return model_version_promote(model_version=version)


def _text(client, name, *args):
    return re.sub(r"\s+", " ", client.get(reverse(name, args=args)).content.decode())


def test_every_page_shows_the_same_figure_with_what_it_was_measured_on(client, admin_user, active, capsys):
    f1, n = f"{active.weighted_f1:.3f}", active.holdout_count
    assert f1 != "1.000"
    client.force_login(admin_user)
    listed = _text(client, "predictions:model-list")
    assert f"{f1} <small>on {n} items</small>" in listed  # the table
    assert f"holdout F1 {f1} on {n} items at training" in listed  # the active line
    assert f"<title>v1: {f1}</title>" in listed  # the chart
    detail = _text(client, "predictions:model-detail", active.number)
    assert f"On the holdout ({n} items, as when v1 was trained)" in detail
    assert f"<th>weighted F1</th><td>{f1}</td>" in detail
    assert f"<title>v1: {f1}</title>" in _text(client, "dashboard")
    assert f"holdout F1 {f1} on {n} items at training" in _text(client, "monitoring:page")
    call_command("models")
    assert f"{f1} on {n}" in capsys.readouterr().out


def test_a_holdout_changed_since_training_is_named_as_todays_beside_the_figure_at_training(
    client, admin_user, tags, active
):
    at_training = f"{active.weighted_f1:.3f}"
    _relabel_holdout(tags, 4)
    client.force_login(admin_user)
    detail = _text(client, "predictions:model-detail", active.number)
    n = GoldLabel.objects.filter(split=Split.HOLDOUT).count()
    assert f"On today's holdout ({n} items)</h2>" in detail
    assert f"Changed since v1 was trained: then {at_training} on {n} items" in detail
    today = re.search(r"<th>weighted F1</th><td>([\d.]+)</td>", detail).group(1)
    assert today != at_training
    # The list keeps the figure at training, labelled so.
    assert f"{at_training} <small>on {n} items</small>" in _text(client, "predictions:model-list")
