from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"

    def ready(self):
        from labeling.roles import roles_ensure_after_migrate

        # Groups need the permissions, which Django creates in post_migrate, app by app:
        # the receiver waits for the last app's (see its docstring).
        post_migrate.connect(roles_ensure_after_migrate, dispatch_uid="labeling.roles_ensure_after_migrate")
