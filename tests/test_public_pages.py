"""Public content pages word the report for what the item shows."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_an_untagged_item_asks_for_a_tag_instead_of_reporting_a_wrong_one(client, tags):
    from tests.factories import make_content

    tagged = make_content(title="tagged", current_tag=tags["mlops"])
    untagged = make_content(title="untagged")
    listing = client.get(reverse("labeling:content-list")).content.decode()
    assert listing.count("report wrong tag") == 1 and listing.count("suggest a tag") == 1
    assert "Report wrong tag" in client.get(reverse("labeling:content-detail", args=[tagged.pk])).content.decode()
    page = client.get(reverse("labeling:content-detail", args=[untagged.pk])).content.decode()
    assert "No tag yet" in page and "Suggest a tag" in page and "Report wrong tag" not in page
