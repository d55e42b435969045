from django.urls import path

from predictions import views_monitoring, views_trust

app_name = "monitoring"
urlpatterns = [
    path("", views_monitoring.monitoring, name="page"),
    path("check-drift", views_monitoring.check_drift, name="check-drift"),
    path("thresholds/pin", views_trust.pin, name="threshold-pin"),
    path("thresholds/unpin", views_trust.unpin, name="threshold-unpin"),
]
