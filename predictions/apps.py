from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "predictions"
    verbose_name = "Predictions"

    def ready(self):
        # Connects the machine side to the human side's "content ingested" signal.
        from predictions import receivers  # noqa: F401
