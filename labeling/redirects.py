"""Where to go after a form: back to the page that sent it, but never off this site."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_to_next(request, fallback: str, *args, **kwargs):
    """Follow the form's ``next`` if it is a URL of this site, else go to ``fallback`` (a URL name).

    A ``next`` taken as is would make the form an open redirect (``next=https://evil.example/``).
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback, *args, **kwargs)
