"""Roles are Django groups with permissions; views check permissions, never group names.

- annotator: works the review queue and browses gold labels.
- reviewer: an annotator who also adjudicates disagreements, sees quality figures,
  exports gold labels and sends them back to review.
- admin: imports content, retrains and promotes models, and can do all the above.
End users need no account: public pages and wrong-tag reports are open to everyone.
"""
from django.contrib.auth.models import Group, Permission

ANNOTATOR = "annotator"
REVIEWER = "reviewer"
ADMIN = "admin"

_ANNOTATOR_PERMISSIONS = ["labeling.review_content", "labeling.view_content", "labeling.view_goldlabel"]

ROLE_PERMISSIONS = {
    ANNOTATOR: _ANNOTATOR_PERMISSIONS,
    REVIEWER: [
        *_ANNOTATOR_PERMISSIONS,
        "labeling.adjudicate",
        "labeling.view_quality",
        "labeling.export_goldlabel",
        "labeling.requeue_goldlabel",
    ],
    ADMIN: [
        "labeling.review_content",
        "labeling.import_content",
        "predictions.train_model",
        "predictions.promote_model",
        # Full admin over both apps' data.
        "labeling.*",
        "predictions.*",
    ],
}


def _permissions(codes: list[str]) -> list[Permission]:
    found = []
    for code in codes:
        app_label, codename = code.split(".")
        query = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            query = query.filter(codename=codename)
        found.extend(query)
    return found


def roles_ensure(**kwargs) -> None:
    """Create or update the role groups; idempotent, runs after every migrate."""
    for name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(codes))
