from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "predictions"
    verbose_name = "Predictions"

    def ready(self):
        from common.roles import role_permissions_register
        from predictions.roles import PREDICTIONS_GRANTS

        role_permissions_register("predictions", PREDICTIONS_GRANTS)
        # Connects the machine side to the human side's "content ingested" signal.
        from predictions import receivers  # noqa: F401
