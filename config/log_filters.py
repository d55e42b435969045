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


class DatabaseUnavailableWithoutTraceback(logging.Filter):
    """A request answered 503 because the database is unreachable is logged in one line with the reason.

    During an outage every request fails the same way; a traceback per request would
    bury everything else in the log, and the one line says what happened.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from config.outage import database_unavailable_error

        if getattr(record, "status_code", None) == 503 and record.exc_info:
            error = database_unavailable_error(record.exc_info[1])
            if error is not None:
                reason = (str(error).strip().splitlines() or [""])[0]
                record.msg = f"{record.msg} (database unavailable: %s: %s)"
                record.args = (*(record.args or ()), type(error).__name__, reason)
                record.exc_info, record.exc_text = None, None
        return True
