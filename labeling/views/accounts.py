"""The login page, behind the login lockout (labeling.login_throttle)."""

from django.contrib.auth.views import LoginView

from labeling.forms import LoginForm


def locked_out_status(response, form):
    """A locked-out login answers 429 with Retry-After; the page itself says how long to wait."""
    if form is not None and getattr(form, "locked_wait", None):
        response.status_code = 429
        response["Retry-After"] = str(form.locked_wait)
    return response


class ThrottledLoginView(LoginView):
    authentication_form = LoginForm

    def form_invalid(self, form):
        return locked_out_status(super().form_invalid(form), form)
