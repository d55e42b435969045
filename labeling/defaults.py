"""The tag set tagloop starts with; seeded by a migration, extendable in the admin."""

DEFAULT_TAGS = [
    ("natural-language-processing", "Natural language processing"),
    ("computer-vision", "Computer vision"),
    ("mlops", "MLOps"),
    ("other", "Other"),
]
