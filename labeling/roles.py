"""What the human side grants each role (registered with common.roles from LabelingConfig.ready)."""

from common.roles import ADMIN, ANNOTATOR, REVIEWER

_ANNOTATOR = ["labeling.review_content", "labeling.view_content", "labeling.view_goldlabel"]

LABELING_GRANTS = {
    ANNOTATOR: _ANNOTATOR,
    REVIEWER: [
        *_ANNOTATOR,
        "labeling.adjudicate",
        "labeling.view_quality",
        "labeling.export_goldlabel",
        "labeling.requeue_goldlabel",
    ],
    # Full admin over the app's data (review_content and import_content included).
    ADMIN: ["labeling.review_content", "labeling.import_content", "labeling.*"],
}
