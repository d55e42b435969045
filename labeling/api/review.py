"""The review queue over the REST API: list tasks, lease the next one, answer or skip it.

The same services as the review pages (labeling.services), so the same leases and rules:
one task held at a time, an answer on a lost lease refused (409), disagreements for
reviewers only, nobody settling their own report, audit samples answered blind.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from config.api_errors import problem
from config.api_fields import StrictCharField
from config.api_pagination import NewestFirst
from config.api_permissions import RolePermission
from config.api_schema import problems
from labeling import selectors
from labeling.api.content import DETAIL_ERRORS, LIST_ERRORS, ContentSerializer, GoldLabelBriefSerializer
from labeling.api.filters import ReviewTaskFilter
from labeling.api.reports import TagSlugField
from labeling.models import ReviewReason, ReviewTask
from labeling.services import (
    ReviewConflict,
    review_reasons_withheld_from,
    review_task_answer,
    review_task_next,
    review_task_skip,
)

REVIEW = "labeling.review_content"
WORK_ERRORS = problems(
    400,
    401,
    403,
    404,
    409,
    415,
    429,
    e403="not an annotator, or a disagreement and not a reviewer",
    e404="no such review task",
    e409="the task is closed, held by someone else, already answered by you, or on your own report",
)


class ReviewTaskSerializer(serializers.ModelSerializer):
    content = ContentSerializer(read_only=True)
    assignee: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    predicted_tag = serializers.SerializerMethodField(help_text="the model's tag; null on an audit sample (blind)")
    probabilities = serializers.SerializerMethodField(help_text="the model's probabilities; empty on an audit sample")

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "reason",
            "status",
            "priority",
            "required_answers",
            "model_version",
            "predicted_tag",
            "probabilities",
            "assignee",
            "lease_expires_at",
            "created_at",
            "resolved_at",
            "content",
        ]

    def get_predicted_tag(self, task) -> str | None:
        return None if selectors.is_blind(task) else (task.predicted_tag or None)

    def get_probabilities(self, task) -> dict[str, float]:
        return {} if selectors.is_blind(task) else task.probabilities


class NextTaskRequestSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReviewReason.choices, required=False, allow_blank=True, default="")
    tag = StrictCharField(required=False, allow_blank=True, default="", max_length=64, help_text="predicted tag")
    source = StrictCharField(required=False, allow_blank=True, default="", max_length=100)  # type: ignore[assignment]  # a declared field (see labeling.api.ingest)
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        default=list,
        max_length=1000,
        help_text="task ids not to be given (those you skipped, say)",
    )


class AnswerRequestSerializer(serializers.Serializer):
    tag = TagSlugField()
    note = StrictCharField(
        required=False, allow_blank=True, default="", max_length=1000, help_text="shown to a reporter with the outcome"
    )


class AnswerSerializer(serializers.Serializer):
    task = ReviewTaskSerializer()
    gold_label = GoldLabelBriefSerializer(
        allow_null=True, help_text="the item's gold label once decided; null while an audit waits for more answers"
    )


@extend_schema_view(
    list=extend_schema(responses={200: ReviewTaskSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ReviewTaskSerializer, **DETAIL_ERRORS}),
    next=extend_schema(
        request=NextTaskRequestSerializer,
        responses={
            200: OpenApiResponse(ReviewTaskSerializer, description="the task now leased to you"),
            204: OpenApiResponse(description="no task for you matches: the queue is empty"),
            **problems(400, 401, 403, 415, 429, e403="not an annotator"),
        },
    ),
    answer=extend_schema(request=AnswerRequestSerializer, responses={200: AnswerSerializer, **WORK_ERRORS}),
    skip=extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="given back to the queue, unanswered"), **WORK_ERRORS},
    ),
)
@extend_schema(tags=["review"])
class ReviewTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review tasks, newest first: every status (filter ``status=open`` for the queue), the reasons your role may work.

    To work the queue: ``POST next`` leases the top task to you (the queue's order, for
    ``TAGLOOP_REVIEW_LEASE_SECONDS``), then ``POST {id}/answer`` or ``POST {id}/skip``.
    """

    serializer_class = ReviewTaskSerializer
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReviewTaskFilter
    permission_classes = [RolePermission]
    required_permissions = {"list": REVIEW, "retrieve": REVIEW, "next": REVIEW, "answer": REVIEW, "skip": REVIEW}
    lookup_value_converter = "int"

    def get_queryset(self):
        return selectors.review_tasks_for_api(withheld_reasons=review_reasons_withheld_from(self.request.user))

    @action(detail=False, methods=["post"])
    def next(self, request):
        body = NextTaskRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filters = {name: body.validated_data[name] for name in ("reason", "tag", "source")}
        task = review_task_next(user=request.user, exclude_ids=tuple(body.validated_data["exclude"]), **filters)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self._task(task.pk))

    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        body = AnswerRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task_id = pk
        try:
            label = review_task_answer(
                task_id=task_id, user=request.user, tag=body.validated_data["tag"], note=body.validated_data["note"]
            )
        except ReviewTask.DoesNotExist:
            raise NotFound("No such review task.") from None
        except ReviewConflict as exc:
            return problem(status.HTTP_409_CONFLICT, str(exc))
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from None
        return Response(
            {"task": self._task(task_id), "gold_label": GoldLabelBriefSerializer(label).data if label else None}
        )

    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        try:
            review_task_skip(task_id=pk, user=request.user)
        except ReviewTask.DoesNotExist:
            raise NotFound("No such review task.") from None
        except ReviewConflict as exc:
            return problem(status.HTTP_409_CONFLICT, str(exc))
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _task(self, task_id: int) -> dict:
        return ReviewTaskSerializer(self.get_queryset().get(pk=task_id), context=self.get_serializer_context()).data
