"""Public HTML pages: content with its tag, "report wrong tag", and the reporter's status page."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from labeling import selectors
from labeling.forms import ContentSearchForm, ReportForm
from labeling.models import Content, ReportStatus, Tag, WrongTagReport
from labeling.pagination import CappedPaginator
from labeling.ratelimit import report_rate_wait, wait_in_words
from labeling.services import client_address, report_create
from labeling.services.reports import report_of_reporter


@login_required
@require_GET
def after_login(request):
    """Where logging in leads: the review queue for the team, the content for a user with no role yet."""
    if request.user.has_perm("labeling.review_content"):
        return redirect("labeling:review-queue")
    messages.info(request, "You are logged in, but have no role yet: ask an admin for one to review items.")
    return redirect("labeling:content-list")


@require_GET
def content_list(request):
    form = ContentSearchForm(request.GET)
    # A filter that cannot be applied shows its error and no rows, never more than was asked for.
    items = selectors.content_public_list(**form.cleaned_data) if form.is_valid() else Content.objects.none()
    narrow = selectors.content_public_list_narrow(**form.cleaned_data) if form.is_valid() else None
    searching = form.is_valid() and any(form.cleaned_data.values())
    # Every list counts its rows only up to a cap: a common word matches most of a large table, and counting a
    # million items (the whole list, or one tag) costs more than showing the page, on every page.
    paginator = CappedPaginator(items, 50, narrow=narrow)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "form": form, "query": query.urlencode(), "searching": searching}
    return render(request, "labeling/content_list.html", context)


def _reporter(request) -> dict:
    """Who is reporting, as report_create takes it: the account, else this browser."""
    if request.user.is_authenticated:
        return {"reporter": request.user}
    return {"reporter_address": client_address(request), "reporter_browser": _browser_key(request)}


# A random key per browser session: anonymous reporters behind one address stay apart.
BROWSER_KEY = "reporter_browser"


def _browser_key(request) -> str:
    if BROWSER_KEY not in request.session:
        request.session[BROWSER_KEY] = secrets.token_urlsafe(16)
    return request.session[BROWSER_KEY]


# The status tokens of the reports this browser filed, newest last (anonymous reporters).
REPORT_TOKENS_KEY = "report_tokens"
REMEMBERED_REPORTS = 100


def _my_report(request, content: Content):
    if request.user.is_authenticated:
        return report_of_reporter(content=content, reporter=request.user)
    return report_of_reporter(content=content, tokens=request.session.get(REPORT_TOKENS_KEY, []))


def _remember_report(request, report) -> None:
    if request.user.is_authenticated:
        return  # known by account
    tokens = [t for t in request.session.get(REPORT_TOKENS_KEY, []) if t != str(report.token)]
    request.session[REPORT_TOKENS_KEY] = [*tokens, str(report.token)][-REMEMBERED_REPORTS:]


@require_GET
def content_detail(request, content_id: int):
    content = get_object_or_404(Content.objects.select_related("current_tag"), pk=content_id)
    # Someone who already reported the item gets the way back to their report's status.
    my_report = _my_report(request, content)
    # An open report is shown to change, not a blank form that would "update" it with nothing.
    initial = _as_filed(my_report) if my_report and my_report.status == ReportStatus.OPEN else {}
    context = {"content": content, "form": ReportForm(content=content, initial=initial), "my_report": my_report}
    return render(request, "labeling/content_detail.html", context)


def _as_filed(report) -> dict:
    return {"suggested_tag": report.suggested_tag.slug if report.suggested_tag_id else None, "comment": report.comment}


@require_POST
def content_report(request, content_id: int):
    content = get_object_or_404(Content.objects.select_related("current_tag"), pk=content_id)
    form = ReportForm(request.POST, content=content)
    if not form.is_valid():
        context = {"content": content, "form": form, "my_report": _my_report(request, content)}
        return render(request, "labeling/content_detail.html", context, status=400)
    wait = report_rate_wait(request)
    if wait is not None:
        context = {"content": content, "wait": wait_in_words(wait)}
        response = render(request, "labeling/too_many_reports.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    mine = _my_report(request, content)
    before = _as_filed(mine) if mine and mine.status == ReportStatus.OPEN else None
    report, created = report_create(
        content=content,
        suggested_tag=form.cleaned_data["suggested_tag"],
        comment=form.cleaned_data["comment"],
        idempotency_key=form.cleaned_data["idempotency_key"],
        **_reporter(request),
    )
    _remember_report(request, report)
    if created:
        said = "Thank you: your report was received and will be reviewed. Keep this page's address to see the outcome."
    elif before == _as_filed(report):
        said = "Your report is unchanged: it already says this."
    else:
        said = "You had already reported this item; we updated your report."
    messages.success(request, said)
    return redirect("labeling:report-status", token=report.token)


@require_GET
def report_status(request, token):
    report = get_object_or_404(
        WrongTagReport.objects.select_related("content", "shown_tag", "suggested_tag"), token=token
    )
    if report.merged_into_id:
        # A duplicate of a simultaneous submit: the outcome is on the report it was merged into.
        return redirect("labeling:report-status", token=report.merged_into.token)
    return render(request, "labeling/report_status.html", {"report": report})


@require_GET
def tag_detail(request, slug: str):
    """What a tag means, with examples: where every public tag link leads."""
    try:
        tag = selectors.tag_for_page(slug=slug)
    except Tag.DoesNotExist:
        raise Http404("no such tag") from None
    return render(request, "labeling/tag_detail.html", {"tag": tag})
