"""The annotators' review queue: keyboard-first, one item at a time, htmx swaps without JavaScript lock-in.

Every action is a real form POST. With htmx (``HX-Request``), the answer returns only the
next item's fragment and the new URL; without it, the browser follows a redirect.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from common.errors import ApplicationError, page_error
from common.formtools import form_errors_text
from common.permissions import requires
from labeling import selectors
from labeling.forms import AnswerForm, QueueFilterForm
from labeling.models import ReviewReason, ReviewStatus, ReviewTask, TagOrigin
from labeling.services import (
    review_answer_undo,
    review_reasons_withheld_from,
    review_task_allowed,
    review_task_answer,
    review_task_next,
    review_task_skip,
    review_tasks_free_count,
)
from labeling.views.progress import review_progress, session_start

REVIEW_PERMISSION = "labeling.review_content"


annotator_required = requires(REVIEW_PERMISSION)


@annotator_required
@require_GET
def review_queue(request):
    withheld = review_reasons_withheld_from(request.user)
    # The filters shown are the address's alone: a later visit, or one with every filter
    # set back to "any", shows the whole queue (the session keeps them only while reviewing).
    form = QueueFilterForm(request.GET or None, withheld_reasons=withheld)
    filters = _chosen(form)
    counts = _counts_for(withheld, **filters)
    labelled = [(ReviewReason(reason).label, n) for reason, n in counts.items()]
    # Open tasks include ones others hold, the user's own reports and audits they answered.
    free = review_tasks_free_count(request.user, counted=counts, **filters)
    context = {
        "counts": labelled,
        "total": sum(counts.values()),
        "free": free,
        "filter_form": form,
        "filters": filters,
        "filters_in_words": _in_words(filters),
        "total_unfiltered": sum(_counts_for(withheld).values()) if filters else None,
        # After the last item the queue page is where "Press U to undo" is read: it must offer the undo.
        "can_undo": selectors.undoable_answers(user=request.user).exists(),
    }
    return render(request, "labeling/review_queue.html", context)


def _chosen(form: QueueFilterForm) -> dict:
    """The filters given a value ("any" is no filter)."""
    if not form.is_bound or not form.is_valid():
        return {}
    return {name: value for name, value in form.cleaned_data.items() if value}


def _counts_for(withheld, **filters) -> dict[str, int]:
    return {reason: n for reason, n in selectors.review_queue_counts(**filters).items() if reason not in withheld}


def _in_words(filters: dict) -> str:
    words = {
        "reason": lambda value: f"reason {ReviewReason(value).label}",
        "tag": lambda value: f"predicted tag {value}",
        "source": lambda value: f"source {value}",
    }
    return ", ".join(words[name](value) for name, value in filters.items())


@annotator_required
@require_POST
def review_start(request):
    form = QueueFilterForm(request.POST, withheld_reasons=review_reasons_withheld_from(request.user))
    # The filters stay with the annotator's session while they review, until they start again.
    request.session["review_filters"] = _chosen(form)
    session_start(request)
    return _to_next_task(request)


def _to_next_task(request):
    # Items this annotator skipped stay in the queue for others but not for them,
    # for the rest of their session.
    skipped = tuple(request.session.get("skipped_tasks", []))
    filters = request.session.get("review_filters", {})
    task = review_task_next(user=request.user, exclude_ids=skipped, **filters)
    if task is None:
        if not filters:
            messages.info(request, "The queue is empty. Well done.")
            return _go(request, reverse("labeling:review-queue"))
        # The queue page shows the filters that emptied the queue, and the way to clear them.
        messages.info(request, "No more items match your filters. Well done.")
        return _go(request, f"{reverse('labeling:review-queue')}?{urlencode(filters)}")
    if _is_htmx(request):
        response = _render_item(request, task.pk, fragment=True)
        response["HX-Push-Url"] = reverse("labeling:review-task", args=[task.pk])
        return response
    return redirect("labeling:review-task", task_id=task.pk)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _go(request, url: str):
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@annotator_required
@require_GET
def review_task(request, task_id: int):
    return _render_item(request, task_id, fragment=False)


def _render_item(request, task_id: int, *, fragment: bool):
    try:
        task = selectors.review_task_for_page(task_id=task_id)
    except ReviewTask.DoesNotExist:
        raise Http404("no such review task") from None
    if not review_task_allowed(task, request.user):
        raise PermissionDenied("Only reviewers decide disagreements between annotators.")
    if task.status != ReviewStatus.OPEN:
        messages.info(request, "That item was already answered.")
        return redirect("labeling:review-queue")
    probabilities = _probability_rows(task)
    reports = selectors.open_reports_of(task=task)
    context = {
        "task": task,
        "content": task.content,
        "tags": selectors.active_tags(),
        "probabilities": probabilities,
        "reports": reports,
        "runner_up": _runner_up(task, probabilities),
        "suggestion": _suggestion(reports),
        # Audit answers are blind: no model hint, so they measure the model, not echo it.
        "blind": task.reason == ReviewReason.AUDIT_SAMPLE,
        "answers": selectors.disagreeing_answers(task=task),
        "held_by_other": task.assignee_id not in (None, request.user.pk),
        "newer_version": _newer_version(task),
        "kept_tag": _gold_tag_in_question(task),
        "progress": review_progress(request),
        "history": selectors.recent_answers(user=request.user),
    }
    template = "labeling/_review_item.html" if fragment else "labeling/review_task.html"
    return render(request, template, context)


def _newer_version(task: ReviewTask) -> int | None:
    """The version that re-predicted the item after the task's numbers were taken, if one did.

    Uncertain items' tasks take a new model's numbers (labeling.services.review_queue); a task
    of another reason keeps the ones that opened it, and the page says they are older.
    """
    content = task.content
    shown_by_model = content.current_tag_origin == TagOrigin.MODEL and content.current_model_version is not None
    if not shown_by_model or task.model_version is None or content.current_model_version == task.model_version:
        return None
    return content.current_model_version


def _gold_tag_in_question(task: ReviewTask) -> str | None:
    """For a suspect label, the gold tag a model doubts: Enter keeps it, so habit never overwrites a label."""
    if task.reason != ReviewReason.SUSPECT_LABEL:
        return None
    return selectors.gold_tag_slug(content_id=task.content_id)


def _runner_up(task: ReviewTask, rows: list[dict]) -> dict | None:
    """For a low-confidence item, the two tags the model hesitated between: why the item is here."""
    if task.reason != ReviewReason.LOW_CONFIDENCE or len(rows) < 2:
        return None
    return {"first": rows[0], "second": rows[1]}


def _suggestion(reports) -> str | None:
    """The tag the reporters suggest (the most common, if they differ): the A key accepts it."""
    suggested = [report.suggested_tag.slug for report in reports if report.suggested_tag_id]
    return max(suggested, key=suggested.count) if suggested else None


def _probability_rows(task: ReviewTask) -> list[dict]:
    rows = [{"tag": tag, "p": p, "percent": round(100 * p)} for tag, p in task.probabilities.items()]
    return sorted(rows, key=lambda row: -row["p"])


@annotator_required
@require_POST
def review_answer(request, task_id: int):
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _answer_error(form))
        return _go(request, reverse("labeling:review-task", args=[task_id]))
    try:
        review_task_answer(
            task_id=task_id, user=request.user, tag=form.cleaned_data["tag"], note=form.cleaned_data["note"]
        )
    except ReviewTask.DoesNotExist:
        raise Http404("no such review task") from None
    except ApplicationError as exc:
        page_error(request, exc)
        return _to_next_task(request)
    changed = _re_predicted_since_shown(task_id, form.cleaned_data["shown_version"])
    messages.success(request, f"Saved: {form.cleaned_data['tag'].slug}. {changed}Press U to undo.")
    return _to_next_task(request)


def _re_predicted_since_shown(task_id: int, shown_version: int | None) -> str:
    """Words for an answer given from a page whose model numbers a promotion replaced meanwhile.

    The answer stands (it is the person's judgement of the item, whatever model was shown);
    they are told what the model in force says, in case it changes their mind (U undoes).
    """
    if shown_version is None:
        return ""
    version, tag, probabilities = selectors.review_task_prediction(task_id=task_id)
    if version is None or version == shown_version:
        return ""
    p = probabilities.get(tag)
    said = f"{tag} ({p:.2f})" if isinstance(p, float) else tag
    return f"While you answered, model v{version} re-predicted this item: it says {said}; your answer stands. "


def _answer_error(form: AnswerForm) -> str:
    return "Pick one of the tags." if "tag" in form.errors else "Not saved. " + form_errors_text(form)


@annotator_required
@require_POST
def review_skip(request, task_id: int):
    try:
        review_task_skip(task_id=task_id, user=request.user)
        request.session["skipped_tasks"] = [*request.session.get("skipped_tasks", [])[-200:], task_id]
    except ReviewTask.DoesNotExist:
        raise Http404("no such review task") from None
    except ApplicationError as exc:
        page_error(request, exc)
    return _to_next_task(request)


@annotator_required
@require_POST
def review_undo(request):
    try:
        task = review_answer_undo(user=request.user)
    except ApplicationError as exc:
        page_error(request, exc)
        return _to_next_task(request)
    messages.info(request, "Undone: the item is back, answer it again.")
    if _is_htmx(request):
        response = _render_item(request, task.pk, fragment=True)
        response["HX-Push-Url"] = reverse("labeling:review-task", args=[task.pk])
        return response
    return redirect("labeling:review-task", task_id=task.pk)
