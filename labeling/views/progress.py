"""The annotator's progress on the review screen: what is left by reason, what they answered, their daily goal."""

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labeling import selectors
from labeling.models import ReviewReason
from labeling.services import review_reasons_withheld_from

# When this login's reviewing began: "answered this session" counts from here.
SESSION_STARTED = "review_session_started"


def session_start(request) -> None:
    """Called by "Start reviewing", which writes the session anyway: the page itself never has to."""
    if not request.session.get(SESSION_STARTED):
        request.session[SESSION_STARTED] = timezone.now().isoformat()


def session_started(request):
    started = parse_datetime(request.session.get(SESSION_STARTED, "") or "")
    if started is None:
        # Reached an item without "Start reviewing" (a bookmark): the session starts now.
        session_start(request)
        started = parse_datetime(request.session[SESSION_STARTED])
    return started


def review_progress(request) -> dict:
    """Two queries: open tasks by reason (under the annotator's filters), and their answers."""
    withheld = review_reasons_withheld_from(request.user)
    filters = request.session.get("review_filters", {})
    counts = {reason: n for reason, n in selectors.review_queue_counts(**filters).items() if reason not in withheld}
    answered = selectors.answers_count(user=request.user, since=session_started(request))
    left = sum(counts.values())
    goal = settings.TAGLOOP_DAILY_GOAL
    return {
        "left": left,
        "left_by_reason": [
            (ReviewReason(reason).label, n) for reason, n in sorted(counts.items(), key=lambda r: -r[1])
        ],
        "session": answered["session"],
        # The bar: this session's answers against them plus what is left.
        "session_total": answered["session"] + left,
        "today": answered["today"],
        "goal": goal,
        "goal_met": bool(goal) and answered["today"] >= goal,
    }
