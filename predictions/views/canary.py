"""Canary pages for admins: start one from a candidate, watch both models side by side, stop it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from common.errors import ApplicationError, page_error
from common.formtools import form_errors_text
from common.permissions import requires
from predictions.forms import CanaryForm, PromoteForm, ReasonForm
from predictions.models import Canary, ModelVersion
from predictions.selectors.canary_report import canary_report
from predictions.services import canary_start as start
from predictions.services import canary_stop as stop


@requires("predictions.promote_model")
@require_POST
def canary_start(request, number: int):
    version = get_object_or_404(ModelVersion, number=number)
    form = CanaryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not started. " + form_errors_text(form))
        return redirect("predictions:model-detail", number=number)
    try:
        canary = start(
            candidate=version,
            share=form.cleaned_data["share_percent"] / 100,
            started_by=request.user,
            override_reason=form.cleaned_data["override_reason"],
        )
    except ApplicationError as exc:
        page_error(request, exc, failed="Canary not started", verb="start")
        return redirect("predictions:model-detail", number=number)
    messages.success(request, f"Canary started: v{number} serves {canary.share:.1%} of items beside the active model.")
    return redirect("predictions:canary-detail", pk=canary.pk)


@requires("predictions.view_modelversion")
@require_GET
def canary_detail(request, pk: int):
    canary = get_object_or_404(Canary.objects.select_related("candidate", "baseline", "started_by", "ended_by"), pk=pk)
    report = canary_report(canary)
    reviewed = report.reviewed
    context = {
        "canary": canary,
        "share_percent": round(100 * canary.share, 1),
        "report": report,
        "arms": [report.candidate, report.baseline],
        "accuracy_rows": [("right on reviewed items", [reviewed.candidate.value, reviewed.baseline.value])]
        if reviewed.n
        else [],
        "series_names": [f"candidate v{canary.candidate.number}", f"active v{canary.baseline.number}"],
        "promote_form": PromoteForm(),
    }
    return render(request, "predictions/canary_detail.html", context)


@requires("predictions.promote_model")
@require_POST
def canary_stop(request, pk: int):
    canary = get_object_or_404(Canary, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Canary not stopped. " + form_errors_text(form))
        return redirect("predictions:canary-detail", pk=pk)
    try:
        stop(canary=canary, stopped_by=request.user, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        page_error(request, exc, failed="Canary not stopped")
    else:
        messages.success(request, "Canary stopped: the active model serves its items again.")
    return redirect("predictions:canary-detail", pk=pk)
