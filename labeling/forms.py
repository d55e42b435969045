import secrets

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from common.formtools import allowed_values_message, choice_pairs, limited_text
from labeling.login_throttle import LoginLocked, authenticate_throttled
from labeling.models import Content, Provenance, ReviewReason, Split, Tag
from labeling.ratelimit import wait_in_words
from labeling.services.reports import suggestion_check


class ReportForm(forms.Form):
    suggested_tag = forms.ModelChoiceField(
        queryset=Tag.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="I don't know",
        label="The right tag is",
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    # A fresh token with each page: the two requests of a double-click carry the same one
    # and make one report (labeling.services.reports.report_create).
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, content: Content, **kwargs):
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", {}).setdefault("idempotency_key", secrets.token_urlsafe(16))
        super().__init__(*args, **kwargs)
        self.content = content
        field = self.fields["suggested_tag"]
        assert isinstance(field, forms.ModelChoiceField)  # declared so above
        if not content.current_tag_id:
            # No tag is shown, so none can be wrong: a suggestion without a tag would say nothing.
            field.required, field.empty_label = True, "Pick a tag"
            field.error_messages["required"] = "Pick the tag that fits: this item has no tag yet."
        # The shown tag is not offered (it would not be a correction), but stays valid
        # input so that clean_suggested_tag can say why it is refused.
        shown = content.current_tag.slug if content.current_tag is not None else None
        field.choices = [(value, label) for value, label in choice_pairs(field) if value != shown]

    def clean_suggested_tag(self):
        suggested_tag = self.cleaned_data["suggested_tag"]
        suggestion_check(content=self.content, suggested_tag=suggested_tag)
        return suggested_tag


class ThrottledLoginMixin:
    """AuthenticationForm.clean with the login lockout (labeling.login_throttle) in front.

    A locked-out attempt is an error saying how long to wait, with the code
    "locked_out" and the wait in ``locked_wait`` for the view's 429 and Retry-After.
    """

    locked_wait: int | None = None

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = authenticate_throttled(self.request, username=username, password=password)
            except LoginLocked as locked:
                self.locked_wait = locked.wait
                raise forms.ValidationError(
                    "Too many failed logins for this account from your address: try again in %(wait)s.",
                    code="locked_out",
                    params={"wait": wait_in_words(locked.wait)},
                ) from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AnswerForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.filter(is_active=True), to_field_name="slug")
    # Shown to the reporter with the outcome of their report.
    note = limited_text(1000, what="note for the reporter")
    # The model version whose numbers the page showed: a re-prediction since then is told on saving.
    shown_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class QueueFilterForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "any reason"), *ReviewReason.choices], required=False)
    tag = forms.SlugField(required=False, help_text="the model's predicted tag")
    source = forms.CharField(
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "any source", "aria-label": "source"}),
    )

    def __init__(self, *args, withheld_reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the reasons this user's role may work (disagreements are for reviewers).
        self.fields["reason"].choices = [
            choice for choice in self.fields["reason"].choices if choice[0] not in withheld_reasons
        ]
        self.fields["tag"] = forms.ChoiceField(
            choices=[("", "any predicted tag"), *((tag.slug, tag.slug) for tag in Tag.objects.filter(is_active=True))],
            required=False,
        )


class GoldChangeForm(forms.Form):
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.filter(is_active=True), to_field_name="slug", empty_label=None, label="New tag"
    )
    note = limited_text(
        1000,
        what="note",
        required=True,
        label="Why (kept with the label)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


UNTAGGED = "untagged"


class ContentSearchForm(forms.Form):
    """The public list's search box and tag filter (empty means everything)."""

    q = limited_text(
        200,
        what="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search titles and descriptions"}),
    )
    tag = forms.ChoiceField(required=False, label="Tag")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tags = [(tag.slug, tag.slug) for tag in Tag.objects.filter(is_active=True)]
        self.fields["tag"].choices = [("", "all tags"), *tags, (UNTAGGED, "not tagged yet")]
        allowed_values_message(self.fields["tag"])


class GoldFilterForm(forms.Form):
    q = limited_text(200, what="search", label="Search")
    tag = forms.ChoiceField(required=False)
    provenance = forms.ChoiceField(choices=[("", "any provenance"), *Provenance.choices], required=False)
    split = forms.ChoiceField(choices=[("", "any split"), *Split.choices], required=False)

    def __init__(self, *args, not_filters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", "any tag"), *((tag.slug, tag.slug) for tag in Tag.objects.all())]
        for name in ("tag", "provenance", "split"):
            allowed_values_message(self.fields[name])
        self.not_filters = set(not_filters)

    def clean(self):
        # A misspelt filter name would otherwise be ignored, and the result be wider than asked for.
        unknown = sorted(set(self.data) - set(self.fields) - self.not_filters)
        if unknown:
            raise forms.ValidationError(
                f"Unknown parameter(s): {', '.join(unknown)}; the filters are {', '.join(self.fields)}."
            )
        return self.cleaned_data
