from django import forms
from django.conf import settings

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
