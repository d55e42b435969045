"""The monitoring page: stream volume, tag mix, review and report rates, drift, live quality."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from predictions.selectors.monitoring import monitoring_overview
from predictions.services import drift_check_request


def can_monitor(user) -> bool:
    return user.is_staff or user.has_perm("labeling.view_quality")


@login_required
@require_GET
def monitoring(request):
    if not can_monitor(request.user):
        raise PermissionDenied
    overview = monitoring_overview()
    context = {
        "overview": overview,
        "review_and_report": {"review tasks": overview["review_rate"], "reports": overview["report_rate"]},
        "live_f1_series": {"live F1 (cumulative)": overview["live_f1"]},
        "window_size": settings.TAGLOOP_LIVE_WINDOW_ITEMS,
        "can_check_drift": request.user.has_perm("predictions.add_driftcheck"),
    }
    return render(request, "monitoring/monitoring.html", context)


@login_required
@require_POST
def check_drift(request):
    """Queue a drift check on the workers; the page shows it when it is stored."""
    if not request.user.has_perm("predictions.add_driftcheck"):
        raise PermissionDenied
    job = drift_check_request()
    job.refresh_from_db()
    if job.dispatched_at is None:
        messages.warning(
            request,
            "Drift check recorded; the task queue is unreachable, so a worker will run it when the queue is back.",
        )
    else:
        messages.success(request, "Drift check queued; its results appear here when a worker has run it.")
    return redirect("monitoring:page")
