"""Which field of another tool's file holds what, and how its labels map onto our tags."""

from dataclasses import dataclass, field


class MappingError(ValueError):
    """The command line's mapping is malformed (nothing is read)."""


@dataclass(frozen=True)
class FieldMapping:
    """Field names as the file spells them (compared case-insensitively); None: the format's default."""

    text: str | None = None
    title: str | None = None
    label: str | None = None
    id: str | None = None
    label_map: dict[str, str] = field(default_factory=dict)

    def field_name(self, name: str, default: str) -> str:
        value = getattr(self, name)
        return (value or default).strip().lower()

    def tag(self, label) -> str:
        """Our tag slug for a label of the file (an int stays an int's text: ClassLabel ids map too)."""
        text = str(label).strip()
        return self.label_map.get(text, text)


def parse_label_map(value: str | None) -> dict[str, str]:
    """``old=new,old2=new2`` -> {"old": "new", ...}; a label may not be mapped twice."""
    mapping: dict[str, str] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        old, sep, new = part.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise MappingError(f"bad --label-map entry '{part.strip()}'; expected old=new, e.g. Vision=computer-vision")
        if old in mapping:
            raise MappingError(f"--label-map maps '{old}' twice")
        mapping[old] = new
    return mapping
