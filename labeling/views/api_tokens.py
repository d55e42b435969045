"""A person's API tokens on their own page: make one (its key is shown once), see when each was used, revoke."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from labeling.selectors import api_tokens_of
from labeling.services.api_tokens import MAX_NAME_LENGTH, api_token_create, api_token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME_LENGTH, help_text="What will use it, e.g. “nightly export script”.", strip=True
    )


@login_required
@never_cache  # the page that shows a new key must not be kept by any cache
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValueError as exc:
            form.add_error("name", str(exc))
        else:
            # Rendered, not redirected: the key is never stored, not even in the session.
            form = TokenForm()
    context = {"form": form, "new_key": new_key, "tokens": api_tokens_of(user=request.user)}
    return render(request, "labeling/api_tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def api_token_revoke_view(request, token_id: int):
    if api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: requests with it are refused from now on.")
    else:
        messages.error(request, "No active token of yours with that id; nothing revoked.")
    return redirect("api-tokens")
