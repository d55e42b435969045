from django.urls import path

from predictions.views import canary, model_versions

app_name = "predictions"
urlpatterns = [
    path("", model_versions.model_list, name="model-list"),
    path("retrain", model_versions.model_retrain, name="model-retrain"),
    path("rollback", model_versions.model_rollback, name="model-rollback"),
    path("<int:number>/", model_versions.model_detail, name="model-detail"),
    path("<int:number>/row", model_versions.model_row, name="model-row"),
    path("active-line", model_versions.model_active_line, name="model-active-line"),
    path("<int:number>/cancel", model_versions.model_cancel, name="model-cancel"),
    path("<int:number>/resume", model_versions.model_resume, name="model-resume"),
    path("<int:number>/promote", model_versions.model_promote, name="model-promote"),
    path("<int:number>/canary", canary.canary_start, name="canary-start"),
    path("canaries/<int:pk>/", canary.canary_detail, name="canary-detail"),
    path("canaries/<int:pk>/stop", canary.canary_stop, name="canary-stop"),
]
