from django.urls import path

from predictions.views import emerging, monitoring, trust

app_name = "monitoring"
urlpatterns = [
    path("", monitoring.monitoring, name="page"),
    path("check-drift", monitoring.check_drift, name="check-drift"),
    path("emerging/<int:topic_id>/tag", emerging.emerging_topic_tag, name="emerging-tag"),
    path("thresholds/pin", trust.pin, name="threshold-pin"),
    path("thresholds/unpin", trust.unpin, name="threshold-unpin"),
]
