"""The team's dashboard: review progress, the gold label mix, model quality over versions.

It lives on the machine side because it shows both sides: labeling may not import predictions.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from labeling.models import Provenance, ReviewReason
from labeling.selectors import review_progress
from predictions import selectors
from predictions.models import ModelVersion
from predictions.selectors.monitoring import drift_alert


@login_required
@require_GET
def dashboard(request):
    """The team's view: review progress, the gold label mix, model quality over versions."""
    if not (request.user.has_perm("labeling.review_content") or request.user.has_perm("predictions.view_modelversion")):
        raise PermissionDenied
    progress = review_progress()
    versions = list(ModelVersion.objects.exclude(metrics={}).defer("ood_checks").order_by("number"))
    context = {
        "progress": progress,
        "open_total": sum(progress["open_by_reason"].values()),
        # People's words for the reasons, as the review queue says them, not the stored names.
        "reason_rows": [(ReviewReason(reason).label, [n]) for reason, n in progress["open_by_reason"].items()],
        "provenance_counts": [(Provenance(p).label, n) for p, n in progress["gold_by_provenance"].items()],
        "gold_rows": [(tag, [n]) for tag, n in progress["gold_by_tag"].items()],
        "gold_max": max(progress["gold_by_tag"].values(), default=1),
        "reason_max": max(progress["open_by_reason"].values(), default=1),
        "answer_points": [(day.strftime("%m-%d"), n) for day, n in progress["answers_by_day"]],
        "answer_max": max((n for _, n in progress["answers_by_day"]), default=1),
        "f1_points": [(f"v{v.number}", v.weighted_f1) for v in versions],
        "cv_points": [(f"v{v.number}", (v.cv_metrics or {}).get("mean_f1")) for v in versions],
        "active": selectors.active_model_version(),
        "drift_alert": drift_alert(),
        "open_series": ["open items"],
        "gold_series": ["gold labels"],
    }
    return render(request, "predictions/dashboard.html", context)
