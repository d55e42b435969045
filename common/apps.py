from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared UI and infrastructure both apps use: errors, permissions, form pieces, chart tags, roles.

    It imports neither labeling nor predictions (tests/test_architecture.py checks): they register
    with it, never the other way round.
    """

    name = "common"
    verbose_name = "Common"
