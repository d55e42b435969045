from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import URLPattern, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from labeling.views import api_tokens
from labeling.views.accounts import ThrottledLoginView
from predictions.views.dashboard import dashboard

handler400 = "config.middleware.bad_request"
handler404 = "config.api_errors.not_found"
handler500 = "config.outage.server_error"  # 503 while the database is unreachable

# The reset pages mail a link: without a mail server they would say "sent" and send nothing.
PASSWORD_RESET_NAMES = {"password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete"}
account_urls = [
    # Django's login page, behind the lockout after repeated failures.
    path("login/", ThrottledLoginView.as_view(), name="login"),
    # A person's API tokens, on their own page.
    path("tokens/", api_tokens.api_tokens, name="api-tokens"),
    path("tokens/<int:token_id>/revoke", api_tokens.api_token_revoke_view, name="api-token-revoke"),
    *(
        pattern
        for pattern in auth_urls.urlpatterns
        # Django's auth URLs are all path()s (a URLResolver would have no name to filter on).
        if isinstance(pattern, URLPattern)
        and pattern.name != "login"
        and (settings.TAGLOOP_PASSWORD_RESET or pattern.name not in PASSWORD_RESET_NAMES)
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("predictions.api.urls")),
    path("api/v1/", include("labeling.api.urls")),
    path("models/", include("predictions.urls")),
    path("dashboard/", dashboard, name="dashboard"),
    path("monitoring/", include("predictions.monitoring_urls")),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("", include("labeling.urls")),
]
