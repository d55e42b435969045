from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from ml.algorithms import ALGORITHMS


class RetrainForm(forms.Form):
    algorithm = forms.ChoiceField(choices=[(name, name) for name in sorted(ALGORITHMS)])
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["algorithm"].initial = settings.TAGLOOP_DEFAULT_ALGORITHM


class PromoteForm(forms.Form):
    override_reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed when a gate fails; it is recorded in the audit trail.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000)


class CanaryForm(forms.Form):
    """Start a canary: the share is asked in percent, as people think of it."""

    share_percent = forms.FloatField(label="Share of items (%)", min_value=0.1)
    override_reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed when a gate fails; it is recorded in the audit trail.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        share = self.fields["share_percent"]
        share.initial = round(100 * settings.TAGLOOP_CANARY_SHARE, 1)
        share.max_value = round(100 * settings.TAGLOOP_CANARY_MAX_SHARE, 1)
        share.validators.append(MaxValueValidator(share.max_value))
        share.widget.attrs.update(min=share.min_value, max=share.max_value, step="0.1")
