"""The reviewers' quality page: kappa per pair, alpha overall, throughput, agreement with gold."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from common.permissions import requires
from labeling.quality import agreement_report


@requires("labeling.view_quality")
@require_GET
def quality(request):
    return render(request, "labeling/quality.html", {"report": agreement_report()})
