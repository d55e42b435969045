from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from common.roles import role_permissions_register
        from webhooks.roles import WEBHOOKS_GRANTS

        role_permissions_register("webhooks", WEBHOOKS_GRANTS)
