"""Logging filters: keep the log about what needs attention."""
import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """A refused request (403) is logged in one line, without the PermissionDenied traceback.

    Django attaches the exception to every 403 it logs; a role check doing its job is
    not an error, and the tracebacks buried the real ones.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info, record.exc_text = None, None
        return True
