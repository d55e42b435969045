from django.urls import path

from predictions.views import monitoring, trust

app_name = "monitoring"
urlpatterns = [
    path("", monitoring.monitoring, name="page"),
    path("check-drift", monitoring.check_drift, name="check-drift"),
    path("thresholds/pin", trust.pin, name="threshold-pin"),
    path("thresholds/unpin", trust.unpin, name="threshold-unpin"),
]
