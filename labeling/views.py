"""HTML pages: public content pages with "report wrong tag", and the annotators' review queue."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from labeling import selectors
from labeling.forms import AnswerForm, ReportForm
from labeling.models import Content, ReviewStatus, ReviewTask, WrongTagReport
from labeling.ratelimit import retry_after
from labeling.services import (
    ReviewConflict,
    client_address,
    report_create,
    reporter_hash,
    review_task_answer,
    review_task_next,
    review_task_skip,
)

REVIEW_PERMISSION = "labeling.review_content"


def annotator_required(view):
    """Anonymous visitors are sent to log in; logged-in users without the permission get 403."""
    return login_required(permission_required(REVIEW_PERMISSION, raise_exception=True)(view))


@require_GET
def content_list(request):
    page = Paginator(selectors.content_public_list(), 50).get_page(request.GET.get("page"))
    return render(request, "labeling/content_list.html", {"page": page})


@require_GET
def content_detail(request, content_id: int):
    content = get_object_or_404(Content.objects.select_related("current_tag"), pk=content_id)
    return render(request, "labeling/content_detail.html", {"content": content, "form": ReportForm()})


@require_POST
def content_report(request, content_id: int):
    content = get_object_or_404(Content.objects.select_related("current_tag"), pk=content_id)
    identity = f"user:{request.user.pk}" if request.user.is_authenticated else reporter_hash(client_address(request))
    wait = retry_after(scope="reports", identity=identity, rate=settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["reports"])
    if wait is not None:
        response = render(request, "labeling/too_many_reports.html", {"content": content, "wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(request, "labeling/content_detail.html", {"content": content, "form": form}, status=400)
    report, created = report_create(
        content=content,
        reporter=request.user if request.user.is_authenticated else None,
        reporter_address=client_address(request),
        suggested_tag=form.cleaned_data["suggested_tag"],
        comment=form.cleaned_data["comment"],
    )
    messages.success(
        request,
        "Thank you: your report was received and will be reviewed. Keep this page's address to see the outcome."
        if created
        else "You had already reported this item; we updated your report.",
    )
    return redirect("labeling:report-status", token=report.token)


@require_GET
def report_status(request, token):
    report = get_object_or_404(WrongTagReport.objects.select_related("content", "shown_tag", "suggested_tag"), token=token)
    return render(request, "labeling/report_status.html", {"report": report})


@annotator_required
@require_GET
def review_queue(request):
    counts = selectors.review_queue_counts()
    return render(request, "labeling/review_queue.html", {"counts": counts, "total": sum(counts.values())})


@annotator_required
@require_POST
def review_start(request):
    return _to_next_task(request)


def _to_next_task(request):
    # Items this annotator skipped stay in the queue for others but not for them,
    # for the rest of their session.
    skipped = tuple(request.session.get("skipped_tasks", []))
    task = review_task_next(user=request.user, exclude_ids=skipped)
    if task is None:
        messages.info(request, "The queue is empty. Well done.")
        return redirect("labeling:review-queue")
    return redirect("labeling:review-task", task_id=task.pk)


@annotator_required
@require_GET
def review_task(request, task_id: int):
    try:
        task = selectors.review_task_for_page(task_id=task_id)
    except ReviewTask.DoesNotExist:
        raise Http404("no such review task") from None
    if task.status != ReviewStatus.OPEN:
        messages.info(request, "That item was already answered.")
        return redirect("labeling:review-queue")
    context = {
        "task": task,
        "content": task.content,
        "tags": selectors.active_tags(),
        "probabilities": _probability_rows(task),
        "reports": selectors.open_reports_of(task=task),
        "held_by_other": task.assignee_id not in (None, request.user.pk),
    }
    return render(request, "labeling/review_task.html", context)


def _probability_rows(task: ReviewTask) -> list[dict]:
    rows = [{"tag": tag, "p": p, "percent": round(100 * p)} for tag, p in task.probabilities.items()]
    return sorted(rows, key=lambda row: -row["p"])


@annotator_required
@require_POST
def review_answer(request, task_id: int):
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick one of the tags.")
        return redirect("labeling:review-task", task_id=task_id)
    try:
        review_task_answer(
            task_id=task_id, user=request.user, tag=form.cleaned_data["tag"], note=form.cleaned_data["note"]
        )
    except ReviewTask.DoesNotExist:
        raise Http404("no such review task") from None
    except ReviewConflict as exc:
        messages.error(request, str(exc))
        return _to_next_task(request)
    messages.success(request, f"Saved: {form.cleaned_data['tag'].slug}.")
    return _to_next_task(request)


@annotator_required
@require_POST
def review_skip(request, task_id: int):
    try:
        review_task_skip(task_id=task_id, user=request.user)
        request.session["skipped_tasks"] = [*request.session.get("skipped_tasks", [])[-200:], task_id]
    except ReviewTask.DoesNotExist:
        raise Http404("no such review task") from None
    except ReviewConflict as exc:
        messages.error(request, str(exc))
    return _to_next_task(request)
