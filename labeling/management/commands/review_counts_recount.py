"""Count the review queue's open tasks again from scratch (a repair; the triggers keep the counts otherwise)."""

from django.core.management.base import BaseCommand

from labeling.services.review_counts import review_counts_recount


class Command(BaseCommand):
    help = "Recount the open review tasks by reason, tag and source (after a restore, or SQL that bypassed triggers)."

    def handle(self, **options):
        rows = review_counts_recount()
        self.stdout.write(f"{rows} counts written (one per reason, predicted tag and source with open tasks)")
