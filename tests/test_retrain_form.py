"""The retrain form offers every algorithm, and refuses one whose packages are not installed."""
from predictions import forms


def test_an_algorithm_whose_packages_are_missing_is_marked_and_refused(monkeypatch):
    monkeypatch.setattr(forms, "embeddings_available", lambda: False)
    form = forms.RetrainForm(data={"algorithm": "embeddings-linear"})
    assert ("embeddings-linear", "embeddings-linear (not installed)") in form.fields["algorithm"].choices
    assert not form.is_valid()
    assert "requirements-embeddings.txt" in form.errors["algorithm"][0]
    assert forms.RetrainForm(data={"algorithm": "tfidf-linear"}).is_valid()


def test_with_the_packages_installed_the_embedding_algorithm_is_offered_plainly(monkeypatch):
    monkeypatch.setattr(forms, "embeddings_available", lambda: True)
    form = forms.RetrainForm(data={"algorithm": "embeddings-linear"})
    assert ("embeddings-linear", "embeddings-linear") in form.fields["algorithm"].choices
    assert form.is_valid()
