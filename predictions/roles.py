"""What the machine side grants each role (registered with common.roles from PredictionsConfig.ready)."""

from common.roles import ADMIN

PREDICTIONS_GRANTS = {
    # Retrain and promote, and full admin over the app's data.
    ADMIN: ["predictions.train_model", "predictions.promote_model", "predictions.*"],
}
