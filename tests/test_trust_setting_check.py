"""manage.py check refuses precision-promise settings out of range, naming the setting's problem."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def test_a_window_risk_out_of_range_fails_the_check_and_the_default_passes(settings):
    settings.TAGLOOP_TRUST_RISK = 1.5
    with pytest.raises(SystemCheckError, match=r"tagloop\.E002.*risk must be in \(0, 1\), not 1\.5"):
        call_command("check")
    settings.TAGLOOP_TRUST_RISK = 0.05
    settings.TAGLOOP_TRUST_WINDOW_ITEMS = 0
    with pytest.raises(SystemCheckError, match=r"tagloop\.E002.*window_items must be at least 1"):
        call_command("check")
    settings.TAGLOOP_TRUST_WINDOW_ITEMS = 30
    call_command("check")
