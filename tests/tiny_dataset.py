"""Twelve short texts, four per tag: enough to train and save any linear model quickly in a test."""

CV, NLP, OPS = "computer-vision", "natural-language-processing", "mlops"
TEXTS = [
    "image detection",
    "image segmentation",
    "video frames",
    "pixel art",
    "text parsing",
    "language model",
    "translation task",
    "word counts",
    "deploy to kubernetes",
    "monitoring in production",
    "mlflow tracking",
    "serving api",
]
LABELS = [CV] * 4 + [NLP] * 4 + [OPS] * 4
