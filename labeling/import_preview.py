"""A dry run's report: what an import would change, in lines a person reads (the command and the admin)."""

from labeling.parsing import RowError

SHOWN = 20  # per section; the rest is counted


def preview_lines(plan, errors: list[RowError], *, strict: bool = False, shown: int = SHOWN) -> list[str]:
    """``plan`` is a :class:`labeling.services.importing.ImportPlan`."""
    if strict and errors:
        lines = [f"would import nothing: {len(errors)} row(s) rejected and --strict given"]
        return lines + _section("rejected", [str(error) for error in errors], shown)
    answers = plan.answers
    lines = [
        f"would create {len(plan.new)} item(s), update {len(plan.changed)}, leave {plan.unchanged} unchanged, "
        f"reject {len(errors)} row(s)",
        f"gold labels: {len(plan.gold_new)} new, {len(plan.gold_changed)} changed, "
        f"{len(plan.gold_kept)} kept as a person decided them",
    ]
    if answers.answers:
        lines.append(
            f"annotators' answers: {answers.new} new, {answers.changed} changed, {answers.unchanged} unchanged; "
            f"inactive accounts to create: {len(answers.accounts_to_create)}"
            + (f" ({', '.join(answers.accounts_to_create[:shown])})" if answers.accounts_to_create else "")
        )
    if plan.disputed:
        lines.append(f"annotators disagree, no gold label, to a reviewer: {len(plan.disputed)}")
    lines += _section("new item", [f"{row.external_id}: {row.title[:80]}" for row in plan.new], shown)
    lines += _section(
        "updated item", [f"{row.external_id}: {', '.join(fields)}" for _, row, fields in plan.changed], shown
    )
    lines += _section("new gold label", [f"{external_id}: {tag}" for external_id, tag in plan.gold_new], shown)
    lines += _section(
        "changed gold label", [f"{external_id}: {old} -> {new}" for external_id, old, new in plan.gold_changed], shown
    )
    lines += _section(
        "kept gold label",
        [
            f"{external_id}: {kept} ({provenance}), the file says {given}"
            for external_id, kept, given, provenance in plan.gold_kept
        ],
        shown,
    )
    lines += _section("disagreement", list(plan.disputed), shown)
    lines += _section("rejected", [str(error) for error in errors], shown)
    return lines


def _section(name: str, entries: list[str], shown: int) -> list[str]:
    lines = [f"  {name}: {entry}" for entry in entries[:shown]]
    if len(entries) > shown:
        lines.append(f"  … and {len(entries) - shown} more {name}(s)")
    return lines
