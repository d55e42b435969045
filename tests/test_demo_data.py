import pytest
from django.core.management import call_command

from labeling.models import Content, GoldLabel

pytestmark = pytest.mark.django_db


def test_demo_data_holds_back_the_newest_items_as_an_untagged_stream(tags, capsys):
    call_command("load_demo_data", "--stream-share", "0.2")
    unlabelled = Content.objects.filter(gold_label__isnull=True)
    assert unlabelled.count() == round(0.2 * 764)
    newest_labelled = GoldLabel.objects.order_by("-content__created_on").first().content.created_on
    assert all(content.created_on >= newest_labelled for content in unlabelled)
    call_command("load_demo_data", "--stream-share", "0.2")
    assert "created 0" in capsys.readouterr().out.splitlines()[-1]
    assert Content.objects.count() == 764
