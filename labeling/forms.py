from django import forms

from labeling.models import Tag


class ReportForm(forms.Form):
    suggested_tag = forms.ModelChoiceField(
        queryset=Tag.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="I don't know",
        label="The right tag is",
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


class AnswerForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.filter(is_active=True), to_field_name="slug")
    # Shown to the reporter with the outcome of their report.
    note = forms.CharField(required=False, max_length=1000)
