from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from common.formtools import limited_text
from ml.catalogue import ALGORITHM_NAMES, NEEDS_EMBEDDINGS, embeddings_available


def _algorithm_choices() -> list[tuple[str, str]]:
    missing = set() if embeddings_available() else NEEDS_EMBEDDINGS
    return [(name, f"{name} (not installed)" if name in missing else name) for name in sorted(ALGORITHM_NAMES)]


class RetrainForm(forms.Form):
    algorithm = forms.ChoiceField(
        error_messages={"required": "Pick one of the algorithms.", "invalid_choice": "Pick one of the algorithms."}
    )
    notes = limited_text(2000, what="notes", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["algorithm"].choices = _algorithm_choices()
        self.fields["algorithm"].initial = settings.TAGLOOP_DEFAULT_ALGORITHM

    def clean_algorithm(self) -> str:
        # Checked here rather than failing on the worker a moment later. The web
        # process shares the workers' environment in every set-up tagloop ships.
        algorithm = self.cleaned_data["algorithm"]
        if algorithm in NEEDS_EMBEDDINGS and not embeddings_available():
            raise forms.ValidationError(
                f"{algorithm} needs the optional embedding packages: install them with "
                "`pip install -r requirements-embeddings.txt` (make test does it)."
            )
        return algorithm


def _override_reason() -> forms.CharField:
    return limited_text(
        2000,
        what="reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed when a gate fails; it is recorded in the audit trail.",
    )


class PromoteForm(forms.Form):
    override_reason = _override_reason()


class ReasonForm(forms.Form):
    reason = limited_text(2000, what="reason")


class CanaryForm(forms.Form):
    """Start a canary: the share is asked in percent, as people think of it."""

    share_percent = forms.FloatField(label="Share of items (%)", min_value=0.1)
    override_reason = _override_reason()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        share = self.fields["share_percent"]
        share.initial = round(100 * settings.TAGLOOP_CANARY_SHARE, 1)
        share.max_value = round(100 * settings.TAGLOOP_CANARY_MAX_SHARE, 1)
        share.validators.append(MaxValueValidator(share.max_value))
        share.widget.attrs.update(min=share.min_value, max=share.max_value, step="0.1")
