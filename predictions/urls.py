from django.urls import path

from predictions import views, views_canary

app_name = "predictions"
urlpatterns = [
    path("", views.model_list, name="model-list"),
    path("retrain", views.model_retrain, name="model-retrain"),
    path("rollback", views.model_rollback, name="model-rollback"),
    path("<int:number>/", views.model_detail, name="model-detail"),
    path("<int:number>/row", views.model_row, name="model-row"),
    path("active-line", views.model_active_line, name="model-active-line"),
    path("<int:number>/cancel", views.model_cancel, name="model-cancel"),
    path("<int:number>/resume", views.model_resume, name="model-resume"),
    path("<int:number>/promote", views.model_promote, name="model-promote"),
    path("<int:number>/canary", views_canary.canary_start, name="canary-start"),
    path("canaries/<int:pk>/", views_canary.canary_detail, name="canary-detail"),
    path("canaries/<int:pk>/stop", views_canary.canary_stop, name="canary-stop"),
]
