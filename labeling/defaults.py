"""The tag set tagloop starts with; seeded by a migration, extendable in the admin."""

DEFAULT_TAGS = [
    ("natural-language-processing", "Natural language processing"),
    ("computer-vision", "Computer vision"),
    ("mlops", "MLOps"),
    ("other", "Other"),
]

# The guideline each default tag starts with (definition, examples one per line); admins edit them.
DEFAULT_GUIDELINES = {
    "natural-language-processing": (
        "Models and tools that read, write or understand human language: text classification, translation, "
        "question answering, language models, speech-to-text once it is text.",
        "BERT: pre-training of deep bidirectional transformers\n"
        "A chatbot that answers questions about a PDF\n"
        "Not this tag: an image captioning model is computer vision first",
    ),
    "computer-vision": (
        "Models and tools that work on images or video: classification, detection, segmentation, generation, "
        "OCR and image captioning.",
        "YOLO: real-time object detection\nStable diffusion fine-tuned on product photos\n"
        "Not this tag: serving any model on Kubernetes is mlops",
    ),
    "mlops": (
        "Getting models to production and keeping them there: training pipelines, serving, monitoring, "
        "experiment tracking, data versioning, feature stores.",
        "Serving models with Kubernetes and KServe\nTracking experiments with MLflow\n"
        "Not this tag: a new model architecture, whatever it is deployed on",
    ),
    "other": (
        "Machine learning that fits none of the above: tabular data, recommender systems, reinforcement learning, "
        "time series, general courses and maths.",
        "Gradient boosting for credit scoring\nA course on the maths of deep learning",
    ),
}
