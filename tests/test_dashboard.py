import pytest
from django.urls import reverse

from labeling.services import review_task_answer, review_task_next
from tests.factories import make_active_model, make_low_confidence_task

pytestmark = pytest.mark.django_db


def test_dashboard_charts_progress_gold_mix_and_model_quality(client, tags, model_dir, annotator):
    make_active_model(tags)
    task = make_low_confidence_task()
    make_low_confidence_task()
    review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    client.force_login(annotator)
    page = client.get(reverse("dashboard")).content.decode()
    assert "<strong>1</strong> open review item" in page and "<strong>1</strong> done today" in page
    assert page.count("<svg") >= 4  # open by reason, gold by tag, answers per day, F1 over versions
    assert "low confidence" in page and "low_confidence" not in page and "holdout F1" in page


def test_dashboard_is_for_the_team_only(client, plain_user):
    assert client.get(reverse("dashboard")).status_code == 302
    client.force_login(plain_user)
    assert client.get(reverse("dashboard")).status_code == 403


def test_dashboard_shows_a_drift_alert_when_the_latest_overall_check_drifted(client, tags, annotator):
    from django.utils import timezone

    from predictions.models import DriftCheck

    client.force_login(annotator)
    now = timezone.now()
    DriftCheck.objects.create(source="", window_start=now, window_end=now, n=100, drifted=True, tests=[])
    assert 'role="alert"' in client.get(reverse("dashboard")).content.decode()
    DriftCheck.objects.create(source="", window_start=now, window_end=now, n=100, drifted=False, tests=[])
    assert 'role="alert"' not in client.get(reverse("dashboard")).content.decode()


def test_done_today_and_answers_today_count_only_since_local_midnight(tags, annotator):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from labeling.models import Annotation, ReviewStatus, ReviewTask
    from labeling.selectors import review_progress

    make_active_model(tags)
    today, yesterday = make_low_confidence_task(), make_low_confidence_task()
    for task in (today, yesterday):
        review_task_next(user=annotator)
        review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    before_midnight = midnight - timedelta(seconds=1)
    ReviewTask.objects.filter(pk=yesterday.pk).update(resolved_at=before_midnight)
    Annotation.objects.filter(review_task_id=yesterday.pk).update(created_at=before_midnight)
    ReviewTask.objects.filter(pk=today.pk).update(resolved_at=midnight)

    progress = review_progress()
    assert ReviewTask.objects.filter(status=ReviewStatus.DONE).count() == 2
    assert progress["done_today"] == 1
    assert progress["answers_today"] == 1
    assert sum(n for _day, n in progress["answers_by_day"]) == 2
