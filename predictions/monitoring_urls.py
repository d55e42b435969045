from django.urls import path

from predictions import views_emerging, views_monitoring

app_name = "monitoring"
urlpatterns = [
    path("", views_monitoring.monitoring, name="page"),
    path("check-drift", views_monitoring.check_drift, name="check-drift"),
    path("emerging/<int:topic_id>/tag", views_emerging.emerging_topic_tag, name="emerging-tag"),
]
