from django.urls import path

from predictions.views import monitoring

app_name = "monitoring"
urlpatterns = [
    path("", monitoring.monitoring, name="page"),
    path("check-drift", monitoring.check_drift, name="check-drift"),
]
