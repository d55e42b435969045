"""Other tools' per-annotator answers, kept as Annotation rows so agreement history survives.

Annotators are users. An external annotator is matched to an account by username, then by
email; one that matches nobody gets a new account that is **inactive** with no password and
no role: it holds the person's answers (the quality page counts them) but cannot sign in until
an admin activates it and gives it a role. Label Studio's and Argilla's numeric or uuid ids are
namespaced (``label-studio-10``, ``argilla-<uuid>``) so they never match a local account by accident.

An imported answer has no review task; there is one per item and annotator, and importing the
same file again changes nothing (a changed answer is updated in place).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from labeling.models import Annotation, Content, Tag
from labeling.parsing import AnswerRow
from labeling.services.content import BATCH_SIZE

USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


@dataclass
class AnswersPlan:
    answers: list[AnswerRow] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    accounts: dict[str, Any] = field(default_factory=dict)  # annotator key -> user
    accounts_to_create: list[str] = field(default_factory=list)  # usernames


def username_for(annotator: str) -> str:
    """The username an external annotator gets (``label-studio:10`` -> ``label-studio-10``)."""
    return USERNAME_UNSAFE.sub("-", annotator.replace(":", "-"))[:150]


def answers_plan(answers: Iterable[AnswerRow], existing: dict[str, Content]) -> AnswersPlan:
    # One answer per item and person: a later one in the file (a redone annotation) wins.
    answers = list({(answer.external_id, answer.annotator): answer for answer in answers}.values())
    plan = AnswersPlan(answers=answers)
    if not answers:
        return plan
    plan.accounts = _matching_users({answer.annotator for answer in answers})
    plan.accounts_to_create = sorted({username_for(key) for key in {a.annotator for a in answers} - set(plan.accounts)})
    standing = _imported_answers([content for content in existing.values()])
    for answer in answers:
        content, user = existing.get(answer.external_id), plan.accounts.get(answer.annotator)
        tag = standing.get((content.pk, user.pk)) if content and user else None
        if tag is None:
            plan.new += 1
        elif tag != answer.tag:
            plan.changed += 1
        else:
            plan.unchanged += 1
    return plan


def answers_import(plan: AnswersPlan, contents: dict[str, Content]) -> tuple[int, int, int]:
    """Write the planned answers; (added, changed, accounts created)."""
    if not plan.answers:
        return 0, 0, 0
    users = dict(plan.accounts)
    created_accounts = 0
    for key in sorted({answer.annotator for answer in plan.answers} - set(users)):
        users[key] = _inactive_user(key)
        created_accounts += 1
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    standing = {
        (annotation.content_id, annotation.annotator_id): annotation
        for annotation in _imported_annotations(list(contents.values()))
    }
    to_create, to_update = [], []
    for answer in plan.answers:
        content, user, tag = contents[answer.external_id], users[answer.annotator], tags[answer.tag]
        when = answer.answered_at or timezone.now()
        annotation = standing.get((content.pk, user.pk))
        if annotation is None:
            to_create.append(Annotation(content=content, annotator=user, tag=tag, created_at=when))
        elif annotation.tag_id != tag.pk:
            annotation.tag, annotation.created_at = tag, when
            to_update.append(annotation)
    Annotation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Annotation.objects.bulk_update(to_update, ["tag", "created_at"], batch_size=BATCH_SIZE)
    return len(to_create), len(to_update), created_accounts


def _matching_users(keys: set[str]) -> dict[str, Any]:
    User = get_user_model()
    by_name = {username_for(key).lower(): key for key in keys} | {key.lower(): key for key in keys}
    found: dict[str, Any] = {}
    for user in User.objects.filter(username__in=[*by_name, *keys]):
        key = by_name.get(user.username.lower())
        if key:
            found.setdefault(key, user)
    emails = [key for key in keys - set(found) if "@" in key]
    if emails:
        query = Q()
        for email in emails:
            query |= Q(email__iexact=email)
        for user in User.objects.filter(query).order_by("pk"):
            for key in emails:
                if key.lower() == user.email.lower():
                    found.setdefault(key, user)
    return found


def _inactive_user(key: str):
    User = get_user_model()
    user = User(username=username_for(key), email=key if "@" in key else "", is_active=False)
    user.set_unusable_password()
    user.save()
    return user


def _imported_annotations(contents: list[Content]) -> list[Annotation]:
    found: list[Annotation] = []
    for start in range(0, len(contents), BATCH_SIZE):
        chunk = contents[start : start + BATCH_SIZE]
        found.extend(Annotation.objects.filter(content__in=chunk, review_task__isnull=True, undone_at__isnull=True))
    return found


def _imported_answers(contents: list[Content]) -> dict[tuple[int, int], str]:
    tags = dict(Tag.objects.values_list("pk", "slug"))
    return {(a.content_id, a.annotator_id): tags[a.tag_id] for a in _imported_annotations(contents)}
