"""Content negotiation with DRF's answers, its Accept parsing skipped where the answer is known.

Nearly every API call sends no Accept header, ``*/*`` or ``application/json``, and no
``?format=``: DRF's negotiation then picks the first renderer (JSON) after parsing and
ordering the header, a few percent of a predict request. Those cases take the first
renderer at once; anything else, and any view whose first renderer is not JSON, goes
through DRF's own negotiation, so every answer (406 included) is unchanged.
"""

from rest_framework.negotiation import DefaultContentNegotiation

# None: no Accept header (DRF reads it as */*); an empty header is a 406 in DRF, so it is not here.
KNOWN_ACCEPTS = frozenset({None, "*/*", "application/json"})


class JSONFirstNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0] if renderers else None
        if (
            first is not None
            and first.media_type == "application/json"
            and format_suffix is None
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and request.META.get("HTTP_ACCEPT") in KNOWN_ACCEPTS
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
