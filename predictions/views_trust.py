"""Admins pin (or unpin) a source's review threshold from /monitoring/."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from predictions.services.trust import ThresholdError, threshold_pin, threshold_unpin


def _require_pin_permission(user) -> None:
    if not user.has_perm("predictions.pin_threshold"):
        raise PermissionDenied


@login_required
@require_POST
def pin(request):
    _require_pin_permission(request.user)
    source = request.POST.get("source", "")
    try:
        threshold = float(request.POST.get("threshold", ""))
    except ValueError:
        messages.error(request, f"Pin for {source!r} not saved: the threshold must be a number (0 to 1.01).")
        return redirect("monitoring:page")
    try:
        threshold_pin(source=source, threshold=threshold, actor=request.user, reason=request.POST.get("reason", ""))
    except ThresholdError as exc:
        messages.error(request, f"Pin for {source!r} not saved: {exc}.")
    else:
        messages.success(request, f"The threshold of {source!r} is pinned at {threshold:.3f}.")
    return redirect("monitoring:page")


@login_required
@require_POST
def unpin(request):
    _require_pin_permission(request.user)
    source = request.POST.get("source", "")
    try:
        threshold_unpin(source=source, actor=request.user, reason=request.POST.get("reason", ""))
    except ThresholdError as exc:
        messages.error(request, f"Not unpinned: {exc}.")
    else:
        messages.success(request, f"The threshold of {source!r} follows the audits again.")
    return redirect("monitoring:page")
