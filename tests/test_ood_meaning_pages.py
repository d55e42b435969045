"""The topic check's meaning part reaches the pages: a flag by it says so, on the item page and the review screen."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from labeling.models import ReviewReason
from labeling.services import review_task_next
from ml.catalogue import minilm_available
from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import default_encode, fit_ood_checks
from ml.text import prepare_text
from predictions.services import predictions_create
from tests.factories import make_active_model, make_content
from tests.ml.test_ml_ood import rows_by_date

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)"),
]

# Legal boilerplate: plain English words, no ad-like wording; far from ML content in meaning.
TERMS = (
    "Limitation of liability",
    "In no event shall the company be liable for any indirect, incidental or consequential damages arising "
    "out of or in connection with these terms, whether in contract, tort or otherwise.",
)


@pytest.fixture
def flagged(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    # The synthetic training set is too small for the topic check: give the version the checks a
    # retrain on real content fits (220 dataset items, the tuning slice, MiniLM vectors).
    training = [prepare_text(row["title"], row["description"]) for row in rows_by_date()[:220]]
    offtopic = [prepare_text(s.title, s.description) for s in read_offtopic_samples() if s.slice == TUNING]
    version.ood_checks = fit_ood_checks(training, offtopic_texts=offtopic, encode=default_encode).to_dict()
    version.save(update_fields=["ood_checks"])
    content = make_content(title=TERMS[0], description=TERMS[1])
    predictions_create(model_version_id=version.pk, content_ids=[content.pk])
    content.refresh_from_db()
    return content


def test_the_stored_checks_carry_the_meaning_part_and_the_flag_names_it(flagged):
    assert flagged.is_out_of_distribution
    assert "farther from the nearest training items than typical" in flagged.ood_reasons["topic"]


def test_item_page_and_review_screen_show_the_meaning_evidence(client, annotator, flagged):
    reason = escape(flagged.ood_reasons["topic"])
    assert reason in client.get(reverse("labeling:content-detail", args=[flagged.pk])).content.decode()
    client.force_login(annotator)
    task = review_task_next(user=annotator)
    assert task.content_id == flagged.pk and task.reason == ReviewReason.OUT_OF_DISTRIBUTION
    assert reason in client.get(reverse("labeling:review-task", args=[task.pk])).content.decode()
