from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"

    def ready(self):
        from labeling.roles import roles_ensure

        # Groups need the permissions, which Django creates in post_migrate.
        post_migrate.connect(roles_ensure, sender=self)
