"""A person's API tokens on their own page: make one (its key is shown once), see when each was used, revoke.

The page is rendered, not redirected, after a token is made (the key is never stored, not even in
the session), so a browser's reload would post the form again. Each rendered form carries a
one-time id kept in the session; a post whose id was already used makes nothing and says so.
"""

import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from labeling.selectors import api_tokens_of
from labeling.services.api_tokens import MAX_NAME_LENGTH, api_token_create, api_token_revoke

SESSION_FORM_IDS = "api_token_form_ids"
KEPT_FORM_IDS = 10  # forms open in several tabs at once


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME_LENGTH, help_text="What will use it, e.g. “nightly export script”.", strip=True
    )
    form_id = forms.CharField(widget=forms.HiddenInput, max_length=64)


def _new_form(request) -> TokenForm:
    form_id = secrets.token_urlsafe(16)
    request.session[SESSION_FORM_IDS] = [*request.session.get(SESSION_FORM_IDS, [])[-(KEPT_FORM_IDS - 1) :], form_id]
    return TokenForm(initial={"form_id": form_id})


def _form_id_used(request, form_id: str) -> bool:
    """Whether this form was already sent; marks it sent otherwise."""
    open_ids = request.session.get(SESSION_FORM_IDS, [])
    if form_id not in open_ids:
        return True
    request.session[SESSION_FORM_IDS] = [other for other in open_ids if other != form_id]
    return False


@login_required
@never_cache  # the page that shows a new key must not be kept by any cache
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = TokenForm(request.POST) if request.method == "POST" else _new_form(request)
    new_key = None
    if request.method == "POST" and form.is_valid():
        if _form_id_used(request, form.cleaned_data["form_id"]):
            messages.warning(
                request,
                "This form was already sent, so no second token was made: the first is in the list below. "
                "Its key was shown once; if you did not copy it, revoke that token and make a new one.",
            )
            form = _new_form(request)
        else:
            try:
                _, new_key = api_token_create(user=request.user, name=form.cleaned_data["name"])
            except ValueError as exc:
                form.add_error("name", str(exc))
            else:
                form = _new_form(request)
    context = {"form": form, "new_key": new_key, "tokens": api_tokens_of(user=request.user)}
    return render(request, "labeling/api_tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def api_token_revoke_view(request, token_id: int):
    if api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: requests with it are refused within seconds on every server.")
    else:
        messages.error(request, "No active token of yours with that id; nothing revoked.")
    return redirect("api-tokens")
