"""manage.py check refuses a TAGLOOP_MINILM_BACKEND it does not know, naming the setting and the choices."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def test_a_misspelt_encoder_backend_fails_the_check_and_a_known_one_passes(monkeypatch):
    monkeypatch.setenv("TAGLOOP_MINILM_BACKEND", "onnx-int4")
    with pytest.raises(
        SystemCheckError, match=r"tagloop\.E001.*TAGLOOP_MINILM_BACKEND='onnx-int4' is not a MiniLM backend"
    ):
        call_command("check")
    monkeypatch.setenv("TAGLOOP_MINILM_BACKEND", "numpy")
    call_command("check")
