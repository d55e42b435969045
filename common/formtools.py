"""Form pieces shared by both apps: length-limited text with a plain message, errors as one line.

Views that answer a POST with a redirect and a flash message must show the form's own
error, not a generic one: a generic "pick a tag" for a note that was too long sends
people looking for the wrong mistake.
"""

from collections.abc import Iterable
from typing import Any

from django import forms


def limited_text(limit: int, *, what: str, **kwargs) -> forms.CharField:
    """A CharField whose length error names the field and both numbers.

    ``max_length`` also renders ``maxlength`` on the input, so browsers stop it early.
    """
    message = f"Keep the {what} to {limit} characters (this one has %(show_value)d)."
    return forms.CharField(
        max_length=limit, error_messages={"max_length": message}, required=kwargs.pop("required", False), **kwargs
    )


def allowed_values_message(field: forms.ChoiceField) -> None:
    """Make an invalid choice name the values that are allowed."""
    allowed = ", ".join(str(value) for value, _ in choice_pairs(field) if value != "")
    field.error_messages["invalid_choice"] = f"“%(value)s” is not allowed; use one of: {allowed}."


def choice_pairs(field: forms.ChoiceField) -> Iterable[tuple[Any, Any]]:
    """A choice field's (value, label) pairs (or (group, pairs) for a group)."""
    # django-stubs 6.1.2 type the getter as anything the setter takes (a Choices class, a callable),
    # but the setter normalises them (django.utils.choices.normalize_choices): the getter gives pairs.
    return field.choices  # type: ignore[return-value]


def form_errors_text(form: forms.Form, *, prefix_names: bool = False) -> str:
    """Every error of a bound form as one sentence-per-error line, for a flash message or a 400."""
    return " ".join(
        f"{name}: {error}" if prefix_names and name != "__all__" else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )
