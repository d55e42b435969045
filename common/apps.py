from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared UI and infrastructure both apps use: errors, permissions, form pieces, chart tags, roles.

    It imports neither labeling nor predictions (tests/test_architecture.py checks): they register
    with it, never the other way round.
    """

    name = "common"
    verbose_name = "Common"

    def ready(self):
        from django.db.models.signals import post_migrate

        import common.lookups  # noqa: F401  (registers field__any)
        from common.roles import roles_ensure_after_migrate

        # Groups need the permissions, which Django creates in post_migrate, app by app:
        # the receiver waits for the last app's (see its docstring).
        post_migrate.connect(roles_ensure_after_migrate, dispatch_uid="common.roles_ensure_after_migrate")
