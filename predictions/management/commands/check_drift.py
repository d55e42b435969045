from django.core.management.base import BaseCommand, CommandError

from predictions.selectors import active_model_version
from predictions.services import drift_checks_run, emerging_topics_refresh


class Command(BaseCommand):
    help = (
        "Run the window drift checks now (in this process), one DriftCheck per window, and refresh the emerging topics."
    )

    def handle(self, **options):
        if active_model_version() is None:
            raise CommandError("no active model; drift is measured against the active model's reference")
        checks = drift_checks_run()
        if not checks:
            self.stdout.write("no window large enough to check (or no gold holdout to compare with)")
        for check in checks:
            overall = check.tests[-1]
            self.stdout.write(
                f"{check.source or 'all sources'}: n={check.n} drifted={'yes' if check.drifted else 'no'} "
                f"adjusted p={overall['p_value']:.4g} fired={','.join(overall['details']['fired']) or '-'}"
            )
        topics = emerging_topics_refresh()
        self.stdout.write(f"emerging topics: {len(topics)}")
