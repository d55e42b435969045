"""Writes of the human side, one module per idea; the public functions are re-exported here."""

from labeling.clients import client_address
from labeling.services.content import ModelTag, content_show_model_tags, show_gold_tags, text_hash
from labeling.services.gold import gold_label_set
from labeling.services.gold_change import GoldChangeRefused, gold_label_change
from labeling.services.importing import ImportPlan, ImportSummary, content_import, content_import_plan
from labeling.services.ingestion import IngestResult, content_ingest
from labeling.services.ood import content_dismiss_out_of_distribution, content_flag_out_of_distribution
from labeling.services.reports import report_create, reporter_hash
from labeling.services.review_answers import review_task_answer, review_task_skip
from labeling.services.review_queue import (
    PRIORITY_BASE,
    PredictionSnapshot,
    ReviewConflict,
    gold_labels_requeue,
    is_audit_sample,
    review_reasons_withheld_from,
    review_task_allowed,
    review_task_next,
    review_task_open,
    review_tasks_close_untouched,
    review_tasks_free_count,
    review_tasks_free_for,
    review_tasks_held_follow,
    review_tasks_open_for_audit,
    review_tasks_open_for_low_confidence,
    review_tasks_open_for_suspects,
    review_tasks_open_many,
)
from labeling.services.splits import assign_splits
from labeling.services.tokens import source_token_authenticate, source_token_create, source_token_revoke
from labeling.services.undo import review_answer_undo

__all__ = [
    "GoldChangeRefused",
    "PRIORITY_BASE",
    "ImportPlan",
    "ImportSummary",
    "IngestResult",
    "ModelTag",
    "PredictionSnapshot",
    "ReviewConflict",
    "assign_splits",
    "client_address",
    "content_dismiss_out_of_distribution",
    "content_flag_out_of_distribution",
    "content_import",
    "content_import_plan",
    "content_ingest",
    "content_show_model_tags",
    "gold_label_change",
    "gold_label_set",
    "gold_labels_requeue",
    "is_audit_sample",
    "report_create",
    "reporter_hash",
    "review_answer_undo",
    "review_reasons_withheld_from",
    "review_task_allowed",
    "review_task_answer",
    "review_task_next",
    "review_tasks_free_count",
    "review_tasks_free_for",
    "review_task_open",
    "review_task_skip",
    "review_tasks_close_untouched",
    "review_tasks_held_follow",
    "review_tasks_open_for_audit",
    "review_tasks_open_many",
    "review_tasks_open_for_low_confidence",
    "review_tasks_open_for_suspects",
    "show_gold_tags",
    "source_token_authenticate",
    "source_token_create",
    "source_token_revoke",
    "text_hash",
]
