"""My recent answers, each changeable with one click (the review screen's H panel, and a page of its own)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from common.errors import ApplicationError, page_error
from common.permissions import requires
from labeling import selectors
from labeling.forms import AnswerForm
from labeling.models import Annotation
from labeling.redirects import redirect_to_next
from labeling.services.history import review_answer_change as change_answer

annotator_required = requires("labeling.review_content")
HISTORY_PAGE_SIZE = 50


@annotator_required
@require_GET
def review_history(request):
    context = {
        "history": selectors.recent_answers(user=request.user, limit=HISTORY_PAGE_SIZE),
        "tags": selectors.active_tags(),
    }
    return render(request, "labeling/review_history.html", context)


@annotator_required
@require_POST
def review_answer_change(request, annotation_id: int):
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick one of the tags.")
        return redirect_to_next(request, "labeling:review-history")
    tag = form.cleaned_data["tag"]
    try:
        answer = change_answer(annotation_id=annotation_id, user=request.user, tag=tag)
    except Annotation.DoesNotExist:
        raise Http404("no such answer of yours") from None
    except ApplicationError as exc:
        page_error(request, exc)
    else:
        messages.success(request, f"Changed: “{answer.content.title[:80]}” is now {tag.slug}.")
    return redirect_to_next(request, "labeling:review-history")
