from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"

    def ready(self):
        from common.roles import role_permissions_register
        from labeling.roles import LABELING_GRANTS

        role_permissions_register("labeling", LABELING_GRANTS)
