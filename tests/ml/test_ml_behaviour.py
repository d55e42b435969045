"""Behavioural tests of the learned models trained on the real dataset.

Minimum functionality (obvious inputs get the obvious tag, for every tag),
directional expectations (swapping image wording for text wording moves the
tag), invariance (synonyms, URLs, case and spacing do not), and CV guards
for the accuracy targets (the default must also clear the rules and
random baselines by a wide margin, and hold on the newest content).  Run for
tfidf-linear always, for minilm-linear (the default) when its weights are
installed, and for embeddings-linear when its optional packages are.
"""

import pytest
from sklearn.metrics import f1_score

from ml.algorithms import DEFAULT_ALGORITHM
from ml.dataset import read_dataset_rows, read_labelled_csv
from ml.evaluation import evaluate
from ml.prediction import predict
from ml.selection import cross_validate
from ml.text import prepare_text
from ml.training import train_model

CV, NLP, OPS, OTHER = "computer-vision", "natural-language-processing", "mlops", "other"

MODELS = [
    pytest.param("tfidf-linear", id="tfidf-linear"),
    pytest.param("minilm-linear", id="minilm-linear", marks=pytest.mark.minilm),
    pytest.param("embeddings-linear", id="embeddings-linear", marks=pytest.mark.embeddings),
]


@pytest.fixture(scope="module")
def items(dataset_file):
    return read_labelled_csv(dataset_file)


@pytest.fixture(scope="module")
def texts(items):
    return [prepare_text(i.title, i.description) for i in items]


@pytest.fixture(scope="module")
def labels(items):
    return [i.tag for i in items]


@pytest.fixture(scope="module", params=MODELS)
def model(request, texts, labels):
    return train_model(texts=texts, labels=labels, algorithm=request.param, random_state=0)


def tag_of(model, title: str, description: str = "") -> str:
    return predict(model, [prepare_text(title, description)])[0].tag


def probability(model, text: str, tag: str) -> float:
    return predict(model, [prepare_text(text, "")])[0].probabilities[tag]


def test_dataset_is_the_expected_one(items):
    assert len(items) == 764
    assert {i.tag for i in items} == {CV, NLP, OPS, OTHER}


@pytest.mark.parametrize(
    "title,description,expected",
    [
        ("Real-time object detection", "Detect and segment objects in images and video with a CNN.", CV),
        ("Face recognition for photos", "Recognise faces in photos using convolutional networks.", CV),
        (
            "Sentiment analysis with BERT",
            "Fine-tune a transformer language model to classify the sentiment of text.",
            NLP,
        ),
        ("Machine translation", "Translate sentences between languages with a sequence-to-sequence model.", NLP),
        (
            "Deploying ML models to production",
            "Serve models behind an API with Docker and Kubernetes and monitor them.",
            OPS,
        ),
        (
            "Experiment tracking and model registry",
            "Track experiments and version models with MLflow in your ML pipeline.",
            OPS,
        ),
        ("Graph neural networks", "Node classification and link prediction on graphs with message passing.", OTHER),
        (
            "Deep reinforcement learning",
            "Train an agent with policy gradients to maximise reward in Atari games.",
            OTHER,
        ),
    ],
)
def test_minimum_functionality_per_tag(model, title, description, expected):
    assert tag_of(model, title, description) == expected


def test_directional_image_wording_to_text_wording_moves_the_tag(model):
    image = "Classifying images: a dataset of labelled images and a model that classifies each image."
    text = "Classifying text: a dataset of labelled documents and a model that classifies each sentence."
    assert tag_of(model, image) == CV
    assert tag_of(model, text) == NLP
    assert probability(model, text, NLP) > probability(model, image, NLP)


def test_directional_adding_deployment_context_raises_mlops(model):
    plain = "Image classification with a convolutional network."
    deployed = plain + " Deploy and monitor it in production with Docker and Kubernetes."
    assert probability(model, deployed, OPS) > probability(model, plain, OPS)


@pytest.mark.parametrize(
    "template,word,synonym,expected",
    [
        ("Generating a caption for every {} with an encoder-decoder network.", "image", "picture", CV),
        ("Denoising each {} with a convolutional autoencoder.", "image", "photo", CV),
        ("Classifying every {} by its sentiment with a fine-tuned BERT model.", "sentence", "text", NLP),
        ("Translating each {} from English to German with a transformer.", "sentence", "phrase", NLP),
    ],
)
def test_invariant_to_synonym_swaps(model, template, word, synonym, expected):
    assert tag_of(model, template.format(word)) == tag_of(model, template.format(synonym)) == expected


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t + " https://github.com/someone/project",
        lambda t: t.upper(),
        lambda t: t.replace(" ", "   "),
    ],
)
def test_invariant_to_urls_case_and_spacing(model, edit):
    text = "Named entity recognition: extract people and places from news text with spaCy."
    assert tag_of(model, edit(text)) == tag_of(model, text) == NLP


def test_evaluation_on_real_predictions_reports_the_llm_slice(items, texts, model):
    # Training-set evaluation: checks wiring and slice membership, not generalisation.
    report = evaluate(items=items, predictions=predict(model, texts), labels=[CV, NLP, OPS, OTHER])
    assert report["n"] == 764
    assert report["slices"]["nlp_llm"]["n"] > 0
    assert report["overall"]["f1"] > 0.9


@pytest.fixture(scope="module")
def cv_of(texts, labels):
    """Cross-validation results, computed once per algorithm for the module."""
    cache = {}

    def run(algorithm: str):
        if algorithm not in cache:
            cache[algorithm] = cross_validate(texts=texts, labels=labels, algorithm=algorithm)
        return cache[algorithm]

    return run


@pytest.mark.minilm
def test_default_meets_its_target_and_clearly_beats_the_baselines(cv_of):
    default = cv_of(DEFAULT_ALGORITHM).mean_f1
    assert default >= 0.92
    assert default > cv_of("tfidf-linear").mean_f1 + 0.01
    assert default > cv_of("rules").mean_f1 + 0.05
    assert default > cv_of("random").mean_f1 + 0.3


def test_tfidf_linear_meets_its_target(cv_of):
    assert cv_of("tfidf-linear").mean_f1 >= 0.89


@pytest.mark.minilm
def test_the_default_holds_on_content_newer_than_its_training_data(dataset_file):
    # The time split of the issue: train on the oldest 80%, test on the newest 20% (0.927 measured;
    # the guard leaves a two-item margin for arithmetic on other machines).
    rows = sorted(read_dataset_rows(dataset_file), key=lambda row: row.created_on)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    labels = [row.item.tag for row in rows]
    cut = int(len(rows) * 0.8)
    scores = {}
    for algorithm in (DEFAULT_ALGORITHM, "tfidf-linear"):
        model = train_model(texts=texts[:cut], labels=labels[:cut], algorithm=algorithm, random_state=0)
        scores[algorithm] = f1_score(labels[cut:], model.predict(texts[cut:]), average="weighted")
    assert scores[DEFAULT_ALGORITHM] >= 0.915, scores
    assert scores[DEFAULT_ALGORITHM] > scores["tfidf-linear"] + 0.03, scores


@pytest.mark.embeddings
def test_embeddings_linear_is_the_default_with_torch(cv_of):
    # The same model and the same vectors (to 2e-7): the folds agree but for rounding.
    assert cv_of("embeddings-linear").mean_f1 == pytest.approx(cv_of(DEFAULT_ALGORITHM).mean_f1, abs=0.005)
