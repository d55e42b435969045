from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from common.errors import ApplicationError, error_text
from predictions.forms import RetrainForm
from predictions.models import Canary, CanaryServing, ModelEvent, ModelVersion, Prediction, TrainingExample
from predictions.services import model_version_promote, model_version_request


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "algorithm",
        "status",
        "progress_bar",
        "weighted_f1",
        "training_label_count",
        "holdout_count",
        "created_at",
    ]
    list_filter = ["status", "algorithm"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote"]
    change_list_template = "admin/predictions/modelversion/change_list.html"

    def changelist_view(self, request, extra_context=None):
        # Reload the list every few seconds while a run is in progress, to follow it.
        running = ModelVersion.objects.filter(status__in=["queued", "training"]).exists()
        return super().changelist_view(request, {**(extra_context or {}), "follow_progress": running})

    def has_add_permission(self, request):
        return False  # versions are made by the "Retrain" button, never by hand

    @admin.display(description="progress")
    def progress_bar(self, obj):
        return format_html('<progress max="100" value="{}"></progress> {}% {}', obj.progress, obj.progress, obj.stage)

    @admin.display(description="holdout F1")
    def weighted_f1(self, obj):
        return obj.weighted_f1

    @admin.action(description="Promote the selected version to active", permissions=["promote"])
    def promote(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        try:
            version = model_version_promote(model_version=queryset.get(), promoted_by=request.user)
        except ApplicationError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return
        self.message_user(request, f"v{version.number} is active; content is being re-predicted.")

    def has_promote_permission(self, request):
        return request.user.has_perm("predictions.promote_model")

    def get_urls(self):
        extra = [
            path("retrain/", self.admin_site.admin_view(self.retrain_view), name="predictions_modelversion_retrain")
        ]
        return extra + super().get_urls()

    def retrain_view(self, request):
        if not request.user.has_perm("predictions.train_model"):
            raise PermissionDenied
        form = RetrainForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            version = model_version_request(
                algorithm=form.cleaned_data["algorithm"], notes=form.cleaned_data["notes"], requested_by=request.user
            )
            self.message_user(request, f"Retrain queued as v{version.number}; the worker reports progress here.")
            return redirect(reverse("admin:predictions_modelversion_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Retrain"}
        return render(request, "admin/predictions/modelversion/retrain.html", context)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["content", "model_version", "tag", "confidence", "created_at"]
    list_filter = ["model_version", "tag"]
    raw_id_fields = ["content"]


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
    list_display = ["model_version", "content", "tag"]
    list_filter = ["model_version", "tag"]
    raw_id_fields = ["content"]


@admin.register(ModelEvent)
class ModelEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "model_version", "previous_version", "actor", "reason"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in ModelEvent._meta.fields]

    def has_add_permission(self, request):
        return False  # the audit trail is written by the services only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Canary)
class CanaryAdmin(admin.ModelAdmin):
    """Read-only: canaries start and stop from the model pages, through the services that record them."""

    list_display = ["started_at", "candidate", "baseline", "share", "running", "ended_at", "end_reason"]
    list_filter = ["running"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CanaryServing)
class CanaryServingAdmin(admin.ModelAdmin):
    list_display = ["canary", "key", "channel", "served", "baseline_tag", "candidate_tag", "requests", "created_at"]
    list_filter = ["canary", "channel", "served"]
    raw_id_fields = ["content"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
