"""Other tools' formats: doccano, Label Studio, Argilla, Hugging Face datasets, in and out.

The round trips export gold labels with ``export_gold`` in each format, import the file into a
new source with ``import_content --format``, and compare items and labels. The foreign files
are written here by hand in the shapes the tools export (annotators, ground truth, drafts).
"""

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from labeling.models import Annotation, Content, GoldLabel, Provenance, ReviewReason, ReviewTask
from labeling.quality import annotator_ratings
from labeling.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

ORIGINAL = [
    # id, created_on, title, description, tag
    (
        "a1",
        "2024-01-02T03:04:05+00:00",
        "Transformers for text",
        "Attention\nis all you need, twice.",
        "natural-language-processing",
    ),
    ("a2", "2024-02-03T00:00:00+00:00", "=SUM(A1) looks like a formula", "", "computer-vision"),
    ("a3", "", "Kubeflow pipelines", "Deploy, monitor — and «retrain».", "mlops"),
    ("a4", "2024-03-04T05:06:07+00:00", "A cat detector", 'YOLO on a phone, "quoted", commas', "computer-vision"),
    ("a5", "2024-04-05T00:00:00+00:00", "Misc", "something else", "other"),
]

# export format -> (import format, file extension)
ROUND_TRIPS = {
    "csv": ("tagloop", "csv"),
    "jsonl": ("tagloop", "jsonl"),
    "doccano": ("doccano", "jsonl"),
    "label-studio": ("label-studio", "json"),
    "label-studio-min": ("label-studio-min", "json"),
    "label-studio-csv": ("label-studio-csv", "csv"),
    "argilla": ("argilla", "jsonl"),
    "huggingface": ("huggingface", "jsonl"),
    "huggingface-parquet": ("huggingface", "parquet"),
}


def _import_original(tmp_path):
    path = tmp_path / "original.jsonl"
    columns = ("id", "created_on", "title", "description", "tag")
    path.write_text("".join(json.dumps(dict(zip(columns, row, strict=True))) + "\n" for row in ORIGINAL))
    call_command("import_content", str(path), "--source", "orig")


def _items(source: str) -> set[tuple]:
    return {
        (c.external_id, c.title, c.description, c.created_on, c.gold_label.tag.slug)
        for c in Content.objects.filter(source=source).select_related("gold_label__tag")
    }


@pytest.mark.parametrize("export_format", list(ROUND_TRIPS))
def test_export_then_import_gives_the_same_items_and_labels(tags, tmp_path, export_format, capsys):
    _import_original(tmp_path)
    import_format, extension = ROUND_TRIPS[export_format]
    path = tmp_path / f"gold.{extension}"
    call_command("export_gold", "--format", export_format, "--output", str(path))
    assert f"wrote 5 gold label(s) to {path}" in capsys.readouterr().out
    call_command("import_content", str(path), "--format", import_format, "--source", "copy")
    assert "created 5, updated 0, unchanged 0, rejected 0 (gold labels added or changed: 5)" in capsys.readouterr().out
    assert _items("copy") == _items("orig")
    assert len(_items("orig")) == 5
    # The same file again changes nothing.
    call_command("import_content", str(path), "--format", import_format, "--source", "copy")
    assert "created 0, updated 0, unchanged 5, rejected 0 (gold labels added or changed: 0)" in capsys.readouterr().out


def test_export_gold_takes_the_pages_filters_and_refuses_a_bad_one(tags, tmp_path, capsys):
    _import_original(tmp_path)
    capsys.readouterr()
    call_command("export_gold", "--format", "doccano", "--tag", "computer-vision")
    lines = capsys.readouterr().out.splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == ["a2", "a4"]
    assert {tuple(json.loads(line)["label"]) for line in lines} == {("computer-vision",)}
    with pytest.raises(CommandError, match="nothing exported.*tag"):
        call_command("export_gold", "--tag", "robotics")
    with pytest.raises(CommandError, match="give --output"):
        call_command("export_gold", "--format", "huggingface-parquet")


def test_the_gold_page_exports_every_format(tags, tmp_path, client, reviewer):
    _import_original(tmp_path)
    client.force_login(reviewer)
    response = client.get(reverse("labeling:gold-export", args=["huggingface-parquet"]), {"split": ""})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.parquet"')
    frame = pd.read_parquet(io.BytesIO(response.content))
    assert sorted(frame["id"]) == ["a1", "a2", "a3", "a4", "a5"]
    tasks = json.loads(b"".join(client.get(reverse("labeling:gold-export", args=["label-studio"])).streaming_content))
    assert {task["data"]["external_id"] for task in tasks} == {"a1", "a2", "a3", "a4", "a5"}
    assert "Label Studio JSON-MIN" in client.get(reverse("labeling:gold-list")).content.decode()


def _write(tmp_path, name, content) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def test_doccano_with_a_label_map_rejects_several_labels_by_line_and_is_idempotent_without_ids(tags, tmp_path, capsys):
    lines = [
        {"text": "Vision transformers\nPatches as tokens", "label": ["Vision"]},
        {"text": "Prompting tricks", "label": ["NLP"], "Comments": []},
        {"text": "Two labels", "label": ["NLP", "Vision"]},
        {"text": "Not yet labelled", "label": []},
    ]
    path = _write(tmp_path, "doccano.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    arguments = ["--format", "doccano", "--label-map", "Vision=computer-vision,NLP=natural-language-processing"]
    with pytest.raises(CommandError) as failure:
        call_command("import_content", path, *arguments, "--source", "dc")
    assert failure.value.returncode == 3
    captured = capsys.readouterr()
    assert "line 3: several labels (NLP, Vision); tagloop keeps one tag per item" in captured.err
    assert "created 3" in captured.out
    vision = Content.objects.get(source="dc", title="Vision transformers")
    assert vision.description == "Patches as tokens" and vision.gold_label.tag.slug == "computer-vision"
    assert vision.external_id.startswith("sha256:")
    assert not GoldLabel.objects.filter(content__title="Not yet labelled").exists()
    with pytest.raises(CommandError):
        call_command("import_content", path, *arguments, "--source", "dc")
    assert "created 0, updated 0, unchanged 3" in capsys.readouterr().out


def test_an_unknown_label_says_how_to_map_it(tags, tmp_path, capsys):
    path = _write(tmp_path, "d.jsonl", json.dumps({"id": 7, "text": "x", "label": "Vision"}) + "\n")
    with pytest.raises(CommandError):
        call_command("import_content", path, "--format", "doccano")
    assert "line 1: unknown tag 'Vision' in the label" in capsys.readouterr().err
    with pytest.raises(CommandError, match="bad --label-map entry 'Vision'"):
        call_command("import_content", path, "--format", "doccano", "--label-map", "Vision")


LABEL_STUDIO_TASKS = [
    {
        "id": 11,
        "data": {"text": "BERT fine-tuning\nfor sentiment"},
        "annotations": [
            {
                "completed_by": 10,
                "result": [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["nlp"]}}],
                "was_cancelled": False,
                "created_at": "2024-05-01T10:00:00Z",
            },
            {
                "completed_by": {"id": 12, "email": "Known@Example.org"},
                "result": [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["nlp"]}}],
                "was_cancelled": False,
            },
            {
                "completed_by": 13,
                "result": [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["cv"]}}],
                "was_cancelled": True,
            },
        ],
        "predictions": [],
    },
    {
        "id": 12,
        "data": {"text": "Feature stores"},
        "annotations": [
            {
                "completed_by": 10,
                "result": [
                    {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["mlops"]}}
                ],
            },
            {
                "completed_by": {"id": 12, "email": "known@example.org"},
                "result": [
                    {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["other"]}}
                ],
            },
        ],
    },
    {
        "id": 13,
        "data": {"text": "Segmenting cells"},
        "annotations": [
            {
                "completed_by": 10,
                "result": [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["nlp"]}}],
            },
            {
                "completed_by": 14,
                "ground_truth": True,
                "result": [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["cv"]}}],
            },
        ],
    },
]
LS_MAP = "nlp=natural-language-processing,cv=computer-vision"


def test_label_studio_annotations_become_answers_of_matched_or_new_inactive_users(tags, tmp_path, capsys):
    known = get_user_model().objects.create_user(username="known", email="known@example.org", password="x")
    path = _write(tmp_path, "ls.json", json.dumps(LABEL_STUDIO_TASKS, indent=2))
    call_command("import_content", path, "--format", "label-studio", "--label-map", LS_MAP, "--source", "ls")
    out = capsys.readouterr().out
    assert "annotators' answers added 6, changed 0 (new inactive accounts: 2)" in out
    assert "disagreements sent to a reviewer: 1" in out
    new_accounts = get_user_model().objects.filter(username__in=["label-studio-10", "label-studio-14"])
    assert [(user.is_active, user.has_usable_password(), user.groups.count()) for user in new_accounts] == [
        (False, False, 0)
    ] * 2
    gold = {label.content.external_id: label.tag.slug for label in GoldLabel.objects.select_related("content", "tag")}
    # Unanimous -> gold; ground truth wins over the other answer; a disagreement goes to a reviewer.
    assert gold == {"11": "natural-language-processing", "13": "computer-vision"}
    assert ReviewTask.objects.get(reason=ReviewReason.DISAGREEMENT).content.external_id == "12"
    assert GoldLabel.objects.get(content__external_id="11").provenance == Provenance.IMPORTED
    ratings = annotator_ratings()  # the quality page's input: agreement history survives
    assert ratings["known"] == {
        Content.objects.get(external_id="11").pk: "natural-language-processing",
        Content.objects.get(external_id="12").pk: "other",
    }
    assert len(ratings["label-studio-10"]) == 3
    answered = Annotation.objects.get(annotator__username="label-studio-10", content__external_id="11")
    assert answered.created_at.isoformat() == "2024-05-01T10:00:00+00:00" and answered.review_task is None
    assert Annotation.objects.filter(annotator=known).count() == 2
    # Again: nothing new, no second account, no second annotation.
    call_command("import_content", path, "--format", "label-studio", "--label-map", LS_MAP, "--source", "ls")
    assert Annotation.objects.count() == 6 and get_user_model().objects.count() == 3
    assert ReviewTask.objects.filter(reason=ReviewReason.DISAGREEMENT).count() == 1


def test_label_studio_min_and_csv_read_the_control_column_and_the_annotator(tags, tmp_path, capsys):
    rows = [
        {
            "id": 1,
            "text": "Diffusion models",
            "topic": "cv",
            "annotator": "ann@example.org",
            "created_at": "2024-01-01",
        },
        {"id": 2, "text": "LoRA adapters", "topic": {"choices": ["nlp"]}, "annotator": "ann@example.org"},
        {"id": 3, "text": "Unlabelled"},
    ]
    path = _write(tmp_path, "min.json", json.dumps(rows))
    arguments = ["--label-field", "topic", "--label-map", LS_MAP]
    call_command("import_content", path, "--format", "label-studio-min", *arguments, "--source", "min")
    assert "created 3" in capsys.readouterr().out
    assert set(Annotation.objects.values_list("annotator__username", "tag__slug")) == {
        ("ann@example.org", "computer-vision"),
        ("ann@example.org", "natural-language-processing"),
    }
    csv_text = 'id,text,topic,annotator\n1,Diffusion models,cv,ann@example.org\n2,"LoRA, adapters","{""choices"": [""nlp"", ""cv""]}",x@y.z\n'
    path = _write(tmp_path, "ls.csv", csv_text)
    with pytest.raises(CommandError):
        call_command("import_content", path, "--format", "label-studio-csv", *arguments, "--source", "csv")
    assert "line 3: several labels (nlp, cv)" in capsys.readouterr().err


def test_argilla_records_in_three_shapes_count_only_submitted_answers(tags, tmp_path, capsys):
    v2 = {
        "id": "r1",
        "fields": {"text": "Graph neural networks"},
        "metadata": {"created_on": "2023-06-01"},
        "responses": {
            "label": [
                {"value": "other", "user_id": "u-1", "status": "submitted"},
                {"value": "mlops", "user_id": "u-2", "status": "draft"},
            ]
        },
        "suggestions": {"label": {"value": "mlops", "score": 0.9, "agent": "model"}},
    }
    v1 = {
        "external_id": "r2",
        "fields": {"text": "Model registry"},
        "responses": [{"user_id": "u-1", "values": {"label": {"value": "mlops"}}, "status": "submitted"}],
    }
    flat = {
        "id": "r3",
        "text": "Object tracking",
        "label.responses": ["computer-vision", "other"],
        "label.responses.users": ["u-1", "u-2"],
        "label.responses.status": ["submitted", "discarded"],
    }
    path = _write(tmp_path, "argilla.jsonl", "".join(json.dumps(record) + "\n" for record in (v2, v1, flat)))
    call_command("import_content", path, "--format", "argilla", "--source", "ar")
    assert "annotators' answers added 3" in capsys.readouterr().out
    gold = dict(GoldLabel.objects.values_list("content__external_id", "tag__slug"))
    assert gold == {"r1": "other", "r2": "mlops", "r3": "computer-vision"}
    assert set(Annotation.objects.values_list("annotator__username", flat=True)) == {"argilla-u-1"}
    assert Content.objects.get(external_id="r1").created_on.isoformat() == "2023-06-01T00:00:00+00:00"


def _hf_parquet(frame: pd.DataFrame, names: list[str]) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    features = {"text": {"dtype": "string", "_type": "Value"}, "label": {"names": names, "_type": "ClassLabel"}}
    meta = {**table.schema.metadata, b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer)
    return buffer.getvalue()


def test_hugging_face_parquet_reads_class_label_names_and_numbers_bad_rows(tags, tmp_path, capsys):
    frame = pd.DataFrame(
        {"text": ["Speech recognition", "Edge TPU inference", None, "Tabular GBMs"], "label": [0, 1, 1, 7]}
    )
    names = ["natural-language-processing", "computer-vision"]
    path = _write(tmp_path, "train.parquet", _hf_parquet(frame, names))
    with pytest.raises(CommandError) as failure:
        call_command("import_content", path, "--format", "huggingface", "--source", "hf")
    assert failure.value.returncode == 3
    err = capsys.readouterr().err
    assert "row 3: no text" in err and "row 4: unknown tag '7'" in err
    gold = dict(GoldLabel.objects.values_list("content__title", "tag__slug"))
    assert gold == {"Speech recognition": "natural-language-processing", "Edge TPU inference": "computer-vision"}


def test_hugging_face_jsonl_with_numbered_labels_and_custom_fields(tags, tmp_path, capsys):
    rows = [{"headline": "Vector databases", "body": "for RAG", "y": 2, "uid": 41}]
    path = _write(tmp_path, "data.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    fields = ["--title-field", "headline", "--text-field", "body", "--label-field", "y", "--id-field", "uid"]
    call_command("import_content", path, "--format", "huggingface", *fields, "--label-map", "2=mlops")
    content = Content.objects.get()
    assert (content.external_id, content.title, content.description) == ("41", "Vector databases", "for RAG")
    assert content.gold_label.tag.slug == "mlops"
    with pytest.raises(CommandError, match="apply to other tools' formats"):
        call_command("import_content", path, "--label-map", "2=mlops")


def test_dry_run_previews_the_changes_and_writes_nothing(tags, tmp_path, capsys, annotator):
    _import_original(tmp_path)
    a3 = GoldLabel.objects.get(content__external_id="a3")
    a3.provenance, a3.decided_by = Provenance.ANNOTATOR, annotator
    a3.save()
    lines = [
        {
            "id": "a1",
            "text": "Transformers for text\nAttention\nis all you need, twice.",
            "label": ["other"],
            "created_on": "2024-01-02T03:04:05+00:00",
        },
        {"id": "a2", "text": "A new title", "label": ["computer-vision"]},
        {"id": "a3", "text": "Kubeflow pipelines\nDeploy, monitor — and «retrain».", "label": ["other"]},
        {"id": "b1", "text": "Brand new", "label": ["mlops"]},
        {"id": "b2", "text": "Broken", "label": ["robotics"]},
    ]
    path = _write(tmp_path, "changes.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    before = (Content.objects.count(), list(GoldLabel.objects.values_list("content_id", "tag_id", "version")))
    with pytest.raises(CommandError) as failure:
        call_command("import_content", path, "--format", "doccano", "--source", "orig", "--dry-run")
    assert failure.value.returncode == 3
    out = capsys.readouterr().out
    assert "would create 1 item(s), update 1, leave 2 unchanged, reject 1 row(s)" in out
    assert "gold labels: 1 new, 1 changed, 1 kept as a person decided them" in out
    assert "  new item: b1: Brand new" in out
    assert "  updated item: a2: title, created_on" in out
    assert "  changed gold label: a1: natural-language-processing -> other" in out
    assert "  kept gold label: a3: mlops (annotator), the file says other" in out
    assert "  rejected: line 5: unknown tag 'robotics'" in out
    assert "dry run: nothing was written" in out
    assert (Content.objects.count(), list(GoldLabel.objects.values_list("content_id", "tag_id", "version"))) == before
    assert Content.objects.get(external_id="a2").title.startswith("=SUM")


def test_dry_run_names_the_accounts_it_would_create(tags, tmp_path, capsys):
    path = _write(tmp_path, "ls.json", json.dumps(LABEL_STUDIO_TASKS))
    call_command("import_content", path, "--format", "label-studio", "--label-map", LS_MAP, "--dry-run")
    out = capsys.readouterr().out
    assert "annotators' answers: 6 new, 0 changed, 0 unchanged; inactive accounts to create: 3" in out
    assert "(known@example.org, label-studio-10, label-studio-14)" in out
    assert "annotators disagree, no gold label, to a reviewer: 1" in out
    assert get_user_model().objects.count() == 0 and Annotation.objects.count() == 0 and Content.objects.count() == 0


def test_the_admins_import_form_previews_then_imports_another_tools_file(tags, client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    fields = {"source": "ui", "format": "label-studio", "label_map": LS_MAP}

    def post(**extra):
        upload = SimpleUploadedFile("project.json", json.dumps(LABEL_STUDIO_TASKS).encode())
        return client.post(reverse("admin:labeling_content_import"), {"file": upload, **fields, **extra}, follow=True)

    page = post(dry_run="on").content.decode()
    assert "Preview: nothing was written" in page and "would create 3 item(s)" in page
    assert Content.objects.count() == 0 and Annotation.objects.count() == 0
    page = post().content.decode()
    assert "created 3" in page and "disagreements sent to a reviewer: 1" in page
    assert Annotation.objects.count() == 6 and get_user_model().objects.filter(is_active=False).count() == 3
    fields["label_map"] = "nlp"
    assert "bad --label-map entry" in post().content.decode()


def test_scripts_export_gold_labels_through_the_api_with_a_token_and_the_pages_filters(tags, tmp_path, reviewer):
    _import_original(tmp_path)
    _, key = api_token_create(user=reviewer, name="export script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = reverse("api-gold-label-export")
    response = api.get(url, {"export_format": "huggingface-parquet"})
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.parquet"')
    assert sorted(pd.read_parquet(io.BytesIO(response.content))["id"]) == ["a1", "a2", "a3", "a4", "a5"]
    doccano = api.get(url, {"export_format": "doccano", "tag": "computer-vision"})
    rows = [json.loads(line) for line in b"".join(doccano.streaming_content).splitlines()]
    assert rows and {tuple(row["label"]) for row in rows} == {("computer-vision",)}
    for bad in ({"export_format": "xlsx"}, {"tag": "robotics"}, {"splt": "holdout"}):
        refused = api.get(url, bad)
        assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json", bad
