"""One error model: a rule of the domain refused what was asked.

Services raise an :class:`ApplicationError` (a subclass per domain: promotion and gates, canary,
retrain cancel, import, review) with a message for people and a ``code`` for programs and logs.
This module is also the one place that turns such an error into what each caller shows:

- a page: :func:`page_error` adds a flash message ("Not promoted: ...");
- the API: the error's ``http_status`` is the status of the problem+json answer that
  ``config/api_errors.py``'s exception handler writes;
- a management command: :func:`command_errors` raises ``CommandError`` with the same words.

A service that refuses a person's role raises :class:`NotPermitted`, which is also Django's
``PermissionDenied``, so a view that lets it through still answers 403.
"""

from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError


class ApplicationError(Exception):
    """What was asked cannot be done as things stand; nothing was written."""

    code = "refused"
    # The request was understood but the state of things refuses it: 409, unless a subclass knows better.
    http_status = 409

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NeedsOverride(ApplicationError):
    """Refused by checks that a person with the right may set aside by giving a reason (the gates)."""

    code = "needs_override"

    def __init__(self, failures: list[str], *, message: str):
        self.failures = failures
        super().__init__(message)


class NotPermitted(ApplicationError, PermissionDenied):
    """The person's role does not allow this; Django and DRF answer 403 for it like PermissionDenied."""

    code = "not_permitted"
    http_status = 403


def error_text(error: ApplicationError, *, failed: str = "") -> str:
    """The error as one sentence, after what did not happen (``failed``, e.g. "Not promoted")."""
    return f"{failed}: {error.message}" if failed else error.message


def page_error(request, error: ApplicationError, *, failed: str = "", verb: str = "go ahead") -> None:
    """Show ``error`` on the next page as a flash message: "Not promoted: <message>.".

    Without ``failed`` the message stands alone (the review queue's are whole sentences). A
    refusal that can be overridden lists the failed checks and says how to go ahead anyway.
    A refusal of the role is not a message: it goes on up, and Django answers 403.
    """
    if isinstance(error, PermissionDenied):
        raise error
    if isinstance(error, NeedsOverride):
        text = f"{failed}. {'; '.join(error.failures)}. To {verb} anyway, give a reason."
    elif failed:
        text = error_text(error, failed=failed) + "."
    else:
        text = error.message
    messages.error(request, text)


@contextmanager
def command_errors(*, failed: str = "", verb: str = "go ahead"):
    """Turn an ApplicationError raised inside the block into the CommandError a command exits with."""
    try:
        yield
    except ApplicationError as error:
        text = error_text(error, failed=failed)
        if isinstance(error, NeedsOverride):
            text += f"; pass --override-reason to {verb} anyway"
        raise CommandError(text) from error
