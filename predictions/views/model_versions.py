"""HTML pages for admins: model versions, retrain with live progress, compare, promote, roll back."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from common.errors import ApplicationError, page_error
from common.formtools import form_errors_text
from common.permissions import requires
from predictions import selectors
from predictions.forms import CanaryForm, PromoteForm, ReasonForm, RetrainForm
from predictions.models import RUNNING_STATUSES, UNFINISHED_JOB_STATUSES, JobKind, ModelEvent, ModelStatus, ModelVersion
from predictions.selectors.comparison import model_versions_compare
from predictions.services import (
    job_resume,
    model_version_cancel,
    model_version_promote,
    model_version_request,
    model_version_rollback,
    retrain_waiting_for_broker,
)
from predictions.services.rollout import rollback_target


@requires("predictions.view_modelversion")
@require_GET
def model_list(request):
    # Not the stored per-item checks: hundreds of KB each with the meaning part's vectors, unused here.
    versions = list(ModelVersion.objects.select_related("created_by").defer("ood_checks")[:50])
    active = selectors.active_model_version()
    _attach_stalls(versions)
    context = {
        "versions": versions,
        "repredict": _repredict_progress(active),
        "f1_points": _f1_points(versions),
        "events": ModelEvent.objects.select_related("model_version", "previous_version", "actor")[:20],
        "retrain_form": RetrainForm(),
        "active": active,
        "canary": selectors.running_canary(),
        "rollback_target": rollback_target(),
        "running_statuses": RUNNING_STATUSES,
        "report_rates": selectors.report_rates(),
    }
    return render(request, "predictions/model_list.html", context)


@requires("predictions.view_modelversion")
@require_GET
def model_active_line(request):
    """The active model and its re-prediction's progress; htmx polls it until every item is predicted."""
    active = selectors.active_model_version()
    return render(
        request, "predictions/_active_line.html", {"active": active, "repredict": _repredict_progress(active)}
    )


def _repredict_progress(active: ModelVersion | None) -> dict:
    predicted, total = selectors.prediction_progress(model_version=active) if active else (0, 0)
    return {"done": predicted, "total": total, "percent": round(100 * predicted / total) if total else 100}


def _f1_points(versions: list[ModelVersion]) -> list[tuple[str, float]]:
    """The list's chart: each version's holdout F1 at training, oldest first (``versions`` newest first)."""
    return [(f"v{v.number}", v.weighted_f1) for v in reversed(versions) if v.weighted_f1 is not None]


@requires("predictions.view_modelversion")
@require_GET
def model_row(request, number: int):
    """One row of the list; htmx polls it while the version trains.

    The answer that shows the run finished also redraws the F1 chart, which then has one
    more version: the page is never reloaded while an admin watches a retrain.
    """
    version = get_object_or_404(ModelVersion, number=number)
    _attach_stalls([version])
    context = {"version": version, "running": RUNNING_STATUSES}
    if version.status not in RUNNING_STATUSES:
        context["f1_chart_oob"] = _f1_points(list(ModelVersion.objects.defer("ood_checks")[:50]))
    return render(request, "predictions/_model_row.html", context)


def _attach_stalls(versions: list[ModelVersion]) -> None:
    """``version.stall``: what is wrong with a queued or training run no worker is doing (None: nothing)."""
    stalls = selectors.retrain_stalls(model_versions=versions)
    for version in versions:
        version.stall = stalls.get(version.number)  # type: ignore[attr-defined]  # for the template only


@requires("predictions.train_model")
@require_POST
def model_retrain(request):
    form = RetrainForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not queued. " + form_errors_text(form))
        return redirect("predictions:model-list")
    version = model_version_request(
        algorithm=form.cleaned_data["algorithm"], notes=form.cleaned_data["notes"], requested_by=request.user
    )
    if retrain_waiting_for_broker(model_version=version):
        messages.warning(
            request,
            f"Retrain queued as v{version.number}; the task queue is unreachable, so the "
            "worker will start it when the queue is back.",
        )
    else:
        messages.success(request, f"Retrain queued as v{version.number}.")
    return redirect("predictions:model-list")


@requires("predictions.train_model")
@require_POST
def model_resume(request, number: int):
    """Send a stalled retrain to the workers again now, instead of waiting for the reconciler."""
    version = get_object_or_404(ModelVersion, number=number)
    job = version.jobs.filter(kind=JobKind.TRAIN, status__in=UNFINISHED_JOB_STATUSES).first()
    if job is None or not job_resume(job=job):
        messages.error(request, f"v{number} is not stalled, or the task queue is still unreachable; nothing sent.")
    else:
        messages.success(request, f"v{number} sent to the workers again; a worker takes it over.")
    return redirect("predictions:model-list")


@requires("predictions.train_model")
@require_POST
def model_cancel(request, number: int):
    version = get_object_or_404(ModelVersion, number=number)
    try:
        model_version_cancel(model_version=version, cancelled_by=request.user)
    except ApplicationError as exc:
        page_error(request, exc, failed="Not cancelled")
    else:
        messages.success(request, f"v{number} cancelled.")
    return redirect("predictions:model-list")


@requires("predictions.view_modelversion")
@require_GET
def model_detail(request, number: int):
    version = get_object_or_404(ModelVersion.objects.select_related("created_by"), number=number)
    active = selectors.active_model_version()
    comparison = None
    if version.artifact_sha256 and version.status in (ModelStatus.CANDIDATE, ModelStatus.RETIRED, ModelStatus.ACTIVE):
        baseline = active if active and active.pk != version.pk else None
        comparison = model_versions_compare(candidate=version, baseline=baseline)
    context = {
        "version": version,
        "active": active,
        "comparison": comparison,
        **_chart_rows(version, comparison),
        "confusion_rows": _confusion_rows(comparison),
        "calibration_series": _calibration_series(version, comparison),
        "promote_form": PromoteForm(),
        # Its own ids: the promote form on the same page has an override_reason field too.
        "canary_form": CanaryForm(auto_id="id_canary_%s"),
        "canaries": version.canaries.select_related("baseline")[:10],
        "events": version.events.select_related("actor", "previous_version")[:20],
    }
    return render(request, "predictions/model_detail.html", context)


@requires("predictions.promote_model")
@require_POST
def model_promote(request, number: int):
    version = get_object_or_404(ModelVersion, number=number)
    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not promoted. " + form_errors_text(form))
        return redirect("predictions:model-detail", number=number)
    try:
        model_version_promote(
            model_version=version, promoted_by=request.user, override_reason=form.cleaned_data["override_reason"]
        )
    except ApplicationError as exc:
        page_error(request, exc, failed="Not promoted", verb="promote")
        return redirect("predictions:model-detail", number=number)
    messages.success(request, f"v{number} is active; all content is being re-predicted.")
    return redirect("predictions:model-list")


@requires("predictions.promote_model")
@require_POST
def model_rollback(request):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not rolled back. " + form_errors_text(form))
        return redirect("predictions:model-list")
    # The version the button named: if the history moved since the page was drawn, refuse.
    shown = request.POST.get("to", "")
    try:
        version = model_version_rollback(
            rolled_back_by=request.user,
            reason=form.cleaned_data["reason"],
            expected_number=int(shown) if shown.isdigit() else None,
        )
    except ApplicationError as exc:
        page_error(request, exc, failed="Not rolled back")
    else:
        messages.success(
            request, f"Rolled back to v{version.number}: it is active again; all content is being re-predicted."
        )
    return redirect("predictions:model-list")


def _calibration_series(version: ModelVersion, comparison) -> list[tuple[str, dict]]:
    """Each model's reliability bins on the holdout, for the reliability diagram."""
    if comparison is None:
        return []
    series = [(f"v{version.number}", comparison.candidate_metrics.get("calibration"))]
    if comparison.baseline is not None:
        series.append((f"active v{comparison.baseline.number}", comparison.baseline_metrics.get("calibration")))
    return [(name, report) for name, report in series if report]


def _chart_rows(version: ModelVersion, comparison) -> dict:
    """F1 per class and per slice, candidate beside baseline, for the bar chart."""
    if comparison is None or not comparison.baseline_metrics:
        return {"rows": [], "series_names": []}
    candidate, baseline = comparison.candidate_metrics, comparison.baseline_metrics
    rows = [
        (tag, [candidate["per_class"][tag]["f1"], baseline["per_class"][tag]["f1"]])
        for tag in candidate["per_class"]
        if candidate["per_class"][tag]["support"]
    ]
    rows += [
        (f"slice: {name}", [candidate["slices"][name]["f1"], baseline["slices"].get(name, {}).get("f1")])
        for name in candidate["slices"]
        if candidate["slices"][name]["n"]
    ]
    names = [f"v{version.number}", f"active v{comparison.baseline.number}"]
    return {"rows": rows, "series_names": names}


def _confusion_rows(comparison) -> list[dict]:
    if comparison is None or not comparison.candidate_metrics:
        return []
    matrix = comparison.candidate_metrics["confusion_matrix"]
    return [
        {"label": label, "cells": cells, "total": sum(cells)}
        for label, cells in zip(matrix["labels"], matrix["matrix"])
    ]
