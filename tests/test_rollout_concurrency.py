"""Two promotions at the same moment (PostgreSQL, real threads and connections).

The first promotion's transaction is held open until the second is waiting for it:
the second compared itself with a model that is no longer active by the time it may
write, so it must be refused, not make a second active model (a 500 before).
"""

import threading

import pytest
from django.db import connection, transaction

from predictions.models import ModelStatus, ModelVersion
from predictions.services import PromotionError, model_version_promote
from tests.factories import make_active_model, make_candidate, make_gold_dataset
from tests.test_reports_concurrency import _wait_until_another_connection_waits_for_a_lock

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs concurrent PostgreSQL connections"),
]


@pytest.mark.parametrize("with_active_model", [True, False], ids=["replacing a model", "the very first"])
def test_the_second_of_two_simultaneous_promotions_is_refused_and_one_model_stays_active(
    tags, model_dir, with_active_model
):
    if with_active_model:
        active = make_active_model(tags)
    else:
        make_gold_dataset(tags)
    first, second = make_candidate("majority"), make_candidate("majority")
    outcome = {}

    def promote_second():
        try:
            model_version_promote(model_version=second, override_reason="qa race")
        except PromotionError as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        model_version_promote(model_version=first, override_reason="qa race")
        thread = threading.Thread(target=promote_second)
        thread.start()
        _wait_until_another_connection_waits_for_a_lock()
    thread.join(timeout=30)
    assert "another promotion or rollback happened at the same time" in str(outcome["second"])
    assert list(ModelVersion.objects.filter(status=ModelStatus.ACTIVE)) == [first]
    if with_active_model:
        assert ModelVersion.objects.get(pk=active.pk).status == ModelStatus.RETIRED
    assert ModelVersion.objects.get(pk=second.pk).status == ModelStatus.CANDIDATE
