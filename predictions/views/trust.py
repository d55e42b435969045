"""Admins pin (or unpin) a source's review threshold from /monitoring/."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from common.errors import ApplicationError, page_error
from common.permissions import requires
from predictions.services.trust import ThresholdError, threshold_pin, threshold_unpin


@requires("predictions.pin_threshold")
@require_POST
def pin(request):
    source = request.POST.get("source", "")
    try:
        threshold = _threshold(request.POST.get("threshold", ""))
        threshold_pin(source=source, threshold=threshold, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        page_error(request, exc, failed=f"Pin for {source!r} not saved")
    else:
        messages.success(request, f"The threshold of {source!r} is pinned at {threshold:.3f}.")
    return redirect("monitoring:page")


@requires("predictions.pin_threshold")
@require_POST
def unpin(request):
    source = request.POST.get("source", "")
    try:
        threshold_unpin(source=source, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        page_error(request, exc, failed="Not unpinned")
    else:
        messages.success(request, f"The threshold of {source!r} follows the audits again.")
    return redirect("monitoring:page")


def _threshold(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ThresholdError("the threshold must be a number (0 to 1.01)") from None
