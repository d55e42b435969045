"""Serializer fields that take only what the API's schema says they take, and a validator they use."""

import re

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else: DRF's CharField would also take 5 or 1.5 as "5" and "1.5".

    The schema says "string"; a client sending a number has a bug worth hearing about.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # DRF's surrogate check, searched by a regex instead of a Python loop over every character.
        self.validators = [
            SurrogateCharactersSearch() if type(validator) is ProhibitSurrogateCharactersValidator else validator
            for validator in self.validators
        ]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An object's id as a whole number: the database would read 1.5 (or "1.5") as object 1."""

    def to_internal_value(self, data):
        whole = isinstance(data, int) and not isinstance(data, bool)
        if not whole:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class CompiledRegexValidator(RegexValidator):
    """Django's RegexValidator (same message, code, and schema ``pattern``) with its pattern compiled at once.

    Django keeps the pattern behind a lazy object, whose every attribute access runs several Python
    calls: on the predict path that cost more than the search itself.
    """

    def __init__(self, regex: str, **kwargs):
        super().__init__(regex, **kwargs)
        self.pattern = re.compile(regex, self.flags)  # typed as what it is, for code that searches with it
        self.regex = self.pattern


class SurrogateCharactersSearch(ProhibitSurrogateCharactersValidator):
    """DRF's refusal of surrogate characters (same message and code, naming the first one), found by a regex.

    DRF's own loops over the text in Python: tens of microseconds for a description of a few hundred
    characters, a millisecond at the 20,000 a predict description may have.
    """

    _surrogate = re.compile("[\ud800-\udfff]")

    def __call__(self, value):
        found = self._surrogate.search(str(value))
        if found is not None:
            super().__call__(found.group())

    @classmethod
    def found(cls, text: str) -> bool:
        """Whether the validator would refuse ``text``."""
        return cls._surrogate.search(text) is not None
