from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from predictions import views as predictions_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("predictions.api_urls")),
    path("api/v1/", include("labeling.api_urls")),
    path("models/", include("predictions.urls")),
    path("dashboard/", predictions_views.dashboard, name="dashboard"),
    path("", include("labeling.urls")),
]
