"""The reviewers' quality page: kappa per pair, alpha overall, throughput, agreement with gold."""
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from labeling.quality import agreement_report


@login_required
@permission_required("labeling.view_quality", raise_exception=True)
@require_GET
def quality(request):
    return render(request, "labeling/quality.html", {"report": agreement_report()})
