"""A refused request is one log line; a server error keeps its traceback."""

import logging
import sys

from config.log_filters import ForbiddenWithoutTraceback


def _record(status_code: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "msg %s", ("/x",), sys.exc_info())
    record.status_code = status_code
    return record


def test_a_403_loses_its_traceback_and_a_500_keeps_it():
    forbidden, error = _record(403), _record(500)
    assert ForbiddenWithoutTraceback().filter(forbidden) and forbidden.exc_info is None
    assert ForbiddenWithoutTraceback().filter(error) and error.exc_info is not None
    formatted = logging.Formatter().format(forbidden)
    assert formatted == "msg /x"
