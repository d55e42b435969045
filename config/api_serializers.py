"""A serializer for the hot path: its fields shallow-copied from the declared ones, not deep-copied.

DRF gives every serializer instance its own fields by deep-copying the declared ones, which
rebuilds each field (its error messages, validators, a related field's queryset) and was a
tenth of a predict request. A shallow copy is as much a field of its own where a request can
change anything: binding it to the serializer sets its name, parent and source on the copy.
What the copies share is never changed after a field is built: its validators and messages,
and a related field's queryset, which DRF clones before every use (``get_queryset``).

Fields holding other fields (a nested serializer, a list's child) are bound to their holder
when built, so they are still deep-copied.
"""

import copy

from rest_framework import serializers


class FreshFieldsSerializer(serializers.Serializer):
    def get_fields(self):
        return {name: _copy(field) for name, field in self._declared_fields.items()}


def _copy(field: serializers.Field) -> serializers.Field:
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    return copy.copy(field)
