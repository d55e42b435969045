"""The API's JSON parser: nesting too deep for Python's parser is a 400, not a 500.

The standard library parses JSON recursively and raises RecursionError (not ValueError,
which DRF turns into a 400) on a body like a thousand ``[``.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONParserDepthSafe(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
