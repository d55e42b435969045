"""The one error model: each refusal reads the same on a page, from a command and over the API."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError
from django.test import RequestFactory

from common.errors import ApplicationError, NotPermitted, command_errors, page_error
from labeling.parsing import ImportFileError
from labeling.services import ReviewConflict
from predictions.services import CanaryError, NoActiveModel, PromotionBlocked, PromotionError
from predictions.services.training import CancelRefused


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _shown(request) -> list[str]:
    return [str(message) for message in get_messages(request)]


def test_every_domain_error_is_an_application_error_with_a_code():
    for error in (
        PromotionError("x"),
        PromotionBlocked(["overall F1 drops 0.02"]),
        CanaryError("x"),
        CancelRefused("x"),
        ImportFileError("x"),
        ReviewConflict("x"),
        NoActiveModel("x"),
        NotPermitted("x"),
    ):
        assert isinstance(error, ApplicationError) and error.code != ApplicationError.code, error
        assert error.message in ("x", "blocked by the gates: overall F1 drops 0.02")
    # Old names keep their place in the hierarchy, so callers catching them still do.
    assert isinstance(CanaryError("x"), PromotionError) and isinstance(CancelRefused("x"), ValueError)
    assert isinstance(NotPermitted("x"), PermissionDenied)
    assert NoActiveModel("x").http_status == 503 and ImportFileError("x").http_status == 400


def test_a_page_says_what_did_not_happen_and_how_to_override():
    request = _request()
    page_error(request, PromotionError("v2 is retired and cannot be made active"), failed="Not promoted")
    page_error(request, PromotionBlocked(["overall F1 drops 0.02"]), failed="Not promoted", verb="promote")
    page_error(request, ReviewConflict("You already answered this item."))
    assert _shown(request) == [
        "Not promoted: v2 is retired and cannot be made active.",
        "Not promoted. overall F1 drops 0.02. To promote anyway, give a reason.",
        "You already answered this item.",
    ]


def test_a_refused_role_is_a_403_not_a_message():
    request = _request()
    with pytest.raises(PermissionDenied):
        page_error(request, NotPermitted("Only reviewers decide disagreements between annotators."))
    assert _shown(request) == []


def test_a_command_exits_with_the_same_words():
    with pytest.raises(
        CommandError, match=r"^not promoted: blocked by the gates: F1; pass --override-reason to promote"
    ):
        with command_errors(failed="not promoted", verb="promote"):
            raise PromotionBlocked(["F1"])
    with pytest.raises(CommandError, match=r"^canary not stopped: this canary has already ended$"):
        with command_errors(failed="canary not stopped"):
            raise CanaryError("this canary has already ended")
    with pytest.raises(KeyError):  # only refusals become command errors; bugs stay bugs
        with command_errors(failed="not promoted"):
            raise KeyError("a bug")
