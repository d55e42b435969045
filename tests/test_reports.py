"""Wrong-tag reports: the suggestion must be a correction, the reporter finds their report again,
and the database keeps one open report per reporter and item."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from labeling.models import ReportStatus, WrongTagReport
from labeling.services import report_create, review_task_answer
from tests.factories import make_content

pytestmark = pytest.mark.django_db


def _status_path(report) -> str:
    return reverse("labeling:report-status", args=[report.token])


# --- A suggestion equal to the shown tag is refused, with a reason -------------------------------


def test_api_refuses_suggesting_the_tag_already_shown_naming_the_field(client, tags):
    content = make_content(current_tag=tags["mlops"])
    response = client.post(
        reverse("api-content-reports", args=[content.pk]), {"suggested_tag": "mlops"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "is the tag shown now" in response.json()["errors"]["suggested_tag"][0]
    assert not WrongTagReport.objects.exists()


def test_api_accepts_any_suggestion_for_an_untagged_item_and_a_different_tag(client, tags):
    untagged, tagged = make_content(), make_content(current_tag=tags["mlops"])
    for content in (untagged, tagged):
        response = client.post(
            reverse("api-content-reports", args=[content.pk]),
            {"suggested_tag": "other"},
            content_type="application/json",
        )
        assert response.status_code == 201 and response.json()["suggested_tag"] == "other"


def test_the_form_does_not_offer_the_shown_tag_and_refuses_it_with_a_clear_error(client, tags):
    content = make_content(current_tag=tags["mlops"])
    page = client.get(reverse("labeling:content-detail", args=[content.pk])).content.decode()
    assert 'value="mlops"' not in page and 'value="computer-vision"' in page
    response = client.post(reverse("labeling:content-report", args=[content.pk]), {"suggested_tag": "mlops"})
    assert response.status_code == 400
    assert "is the tag shown now: suggest a different tag" in response.content.decode()
    assert not WrongTagReport.objects.exists()


def test_report_create_itself_refuses_the_shown_tag(tags):
    content = make_content(current_tag=tags["mlops"])
    with pytest.raises(ValidationError):
        report_create(content=content, reporter_address="1.2.3.4", suggested_tag=tags["mlops"])
    assert not WrongTagReport.objects.exists()


# --- The item page links a reporter to their report ----------------------------------------------


def test_an_anonymous_reporter_sees_a_status_link_on_the_item_page_and_others_do_not(tags):
    content = make_content(current_tag=tags["mlops"])
    reporter, neighbour = Client(REMOTE_ADDR="10.1.1.1"), Client(REMOTE_ADDR="10.1.1.2")
    detail = reverse("labeling:content-detail", args=[content.pk])
    assert "You reported" not in reporter.get(detail).content.decode()
    reporter.post(reverse("labeling:content-report", args=[content.pk]), {"suggested_tag": "other"})
    report = WrongTagReport.objects.get()
    page = reporter.get(detail).content.decode()
    assert "You reported this tag" in page and f'href="{_status_path(report)}"' in page
    assert "You reported" not in neighbour.get(detail).content.decode()
    # Another browser behind the same address (an office, a phone network) sees nothing either.
    same_address = Client(REMOTE_ADDR="10.1.1.1")
    assert "You reported" not in same_address.get(detail).content.decode()


def test_a_signed_in_reporter_sees_the_link_by_account_not_by_address(client, tags, plain_user, annotator):
    content = make_content(current_tag=tags["mlops"])
    client.force_login(plain_user)
    client.post(reverse("api-content-reports", args=[content.pk]), {}, content_type="application/json")
    report = WrongTagReport.objects.get(reporter=plain_user)
    detail = reverse("labeling:content-detail", args=[content.pk])
    assert f'href="{_status_path(report)}"' in client.get(detail).content.decode()
    same_address = Client()
    assert "You reported" not in same_address.get(detail).content.decode()
    same_address.force_login(annotator)
    assert "You reported" not in same_address.get(detail).content.decode()


def test_after_the_review_the_link_stays_and_says_the_outcome(client, tags, annotator):
    content = make_content(current_tag=tags["mlops"])
    client.post(reverse("labeling:content-report", args=[content.pk]), {})
    report = WrongTagReport.objects.get()
    review_task_answer(task_id=report.review_task_id, user=annotator, tag=tags["mlops"])
    page = client.get(reverse("labeling:content-detail", args=[content.pk])).content.decode()
    assert "You reported this item's tag (rejected)" in page and f'href="{_status_path(report)}"' in page


# --- One open report per reporter and item, kept by the database ---------------------------------


def test_the_database_refuses_a_second_open_report_for_the_same_reporter(tags, plain_user):
    content = make_content(current_tag=tags["mlops"])
    report_create(content=content, reporter=plain_user)
    report_create(content=content, reporter_address="10.2.2.2")
    for identity in (
        {"reporter": plain_user},
        {"reporter_hash": WrongTagReport.objects.get(reporter=None).reporter_hash},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            WrongTagReport.objects.create(content=content, **identity)
    # Once the first is resolved, a new report is a new open report.
    WrongTagReport.objects.update(status=ReportStatus.REJECTED)
    assert report_create(content=content, reporter=plain_user)[1] is True


def test_open_reports_of_deleted_users_do_not_collide(tags, django_user_model):
    content = make_content(current_tag=tags["mlops"])
    users = [django_user_model.objects.create_user(f"gone{n}") for n in range(2)]
    for user in users:
        report_create(content=content, reporter=user)
    for user in users:
        user.delete()  # SET_NULL: both reports are left with neither a user nor an address
    assert WrongTagReport.objects.filter(reporter=None, reporter_hash="", status="open").count() == 2


def test_a_merged_duplicates_status_link_leads_to_the_report_it_was_merged_into(client, tags):
    content = make_content(current_tag=tags["mlops"])
    kept, _ = report_create(content=content, reporter_address="10.3.3.3")
    duplicate = WrongTagReport.objects.create(
        content=content, reporter_hash="x", status=ReportStatus.MERGED, merged_into=kept
    )
    response = client.get(_status_path(duplicate))
    assert response.status_code == 302 and response["Location"] == _status_path(kept)


@pytest.fixture
def before_the_report_constraints(transactional_db):
    """The schema just before 0009, with the historical WrongTagReport; back to the latest afterwards."""
    before = ("labeling", "0008_content_created_on_index")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        yield executor.loader.project_state([before]).apps.get_model("labeling", "WrongTagReport")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# ``tags`` before the migration back: today's Tag has columns (the guideline) that 0008's schema lacks.
def test_the_migration_merges_existing_duplicates_into_the_oldest_open_report(
    tags, before_the_report_constraints, django_user_model
):
    old = before_the_report_constraints
    content, other = make_content(current_tag=tags["mlops"]), make_content()
    user = django_user_model.objects.create_user("double-clicker")
    anonymous = [
        old.objects.create(content_id=content.pk, reporter_hash="h", comment=c, suggested_tag_id=t)
        for c, t in (("first", tags["other"].pk), ("", tags["computer-vision"].pk), ("last", None))
    ]
    signed_in = [old.objects.create(content_id=content.pk, reporter_id=user.pk) for _ in range(2)]
    untouched = [
        old.objects.create(content_id=other.pk, reporter_hash="h"),
        old.objects.create(content_id=content.pk, reporter_hash="h", status="rejected"),
    ]

    executor = MigrationExecutor(connection)
    # 0009 and whatever follows: the checks below read with today's model.
    executor.migrate(executor.loader.graph.leaf_nodes())

    kept = WrongTagReport.objects.get(pk=anonymous[0].pk)
    assert (kept.status, kept.comment, kept.suggested_tag_id) == ("open", "last", tags["computer-vision"].pk)
    for duplicates, keeper in ((anonymous[1:], anonymous[0]), (signed_in[1:], signed_in[0])):
        for duplicate in duplicates:
            duplicate = WrongTagReport.objects.get(pk=duplicate.pk)
            assert (duplicate.status, duplicate.merged_into_id) == ("merged", keeper.pk)
    assert WrongTagReport.objects.get(pk=signed_in[0].pk).status == "open"
    assert [WrongTagReport.objects.get(pk=r.pk).status for r in untouched] == ["open", "rejected"]


# --- Anonymous reporters behind one address are different reporters ------------------------------


def test_two_browsers_behind_one_address_each_get_their_own_report(tags):
    content = make_content(current_tag=tags["mlops"])
    url = reverse("labeling:content-report", args=[content.pk])
    first, second = Client(REMOTE_ADDR="10.2.2.2"), Client(REMOTE_ADDR="10.2.2.2")
    first.post(url, {"suggested_tag": "other", "comment": "first person's words"})
    response = second.post(url, {"suggested_tag": "computer-vision"}, follow=True)
    assert "your report was received" in response.content.decode()
    reports = list(WrongTagReport.objects.order_by("pk"))
    assert [(r.suggested_tag.slug, r.comment) for r in reports] == [
        ("other", "first person's words"),
        ("computer-vision", ""),
    ]
    assert response.redirect_chain[-1][0] == _status_path(reports[1])
    # The same browser again is a repeat: merged into its own report.
    again = first.post(url, {"comment": "more"}, follow=True)
    assert "we updated your report" in again.content.decode()
    assert WrongTagReport.objects.count() == 2
    assert WrongTagReport.objects.get(pk=reports[0].pk).comment == "more"


# --- A request that files no report costs no report budget ---------------------------------------


def test_rejected_report_requests_do_not_use_up_the_budget(client, tags, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"reports": "1/hour", "predict": "100/minute"},
    }
    content = make_content(current_tag=tags["mlops"])
    api = reverse("api-content-reports", args=[content.pk])
    assert (
        client.post(reverse("api-content-reports", args=[999999]), {}, content_type="application/json").status_code
        == 404
    )
    assert client.post(api, {"suggested_tag": "nope"}, content_type="application/json").status_code == 400
    assert (
        client.post(reverse("labeling:content-report", args=[content.pk]), {"suggested_tag": "mlops"}).status_code
        == 400
    )
    assert client.post(api, {}, content_type="application/json").status_code == 201
    assert client.post(api, {}, content_type="application/json").status_code == 429


def test_an_unknown_or_malformed_suggested_tag_is_answered_with_the_valid_tags(client, tags):
    url = reverse("api-content-reports", args=[make_content().pk])
    unknown = client.post(url, {"suggested_tag": "nlp"}, content_type="application/json")
    listed = client.post(url, {"suggested_tag": ["mlops"]}, content_type="application/json")
    assert unknown.status_code == listed.status_code == 400
    valid = "one of computer-vision, mlops, natural-language-processing, other."
    assert unknown.json()["errors"]["suggested_tag"] == [f"Unknown tag 'nlp': {valid}"]
    assert listed.json()["errors"]["suggested_tag"] == [f"Give one tag as a string: {valid}"]
    assert not WrongTagReport.objects.exists()
