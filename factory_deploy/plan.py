"""What a deploy will do, per part: each item is created, updated, deleted or unchanged (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CREATE, UPDATE, DELETE, UNCHANGED = "create", "update", "delete", "unchanged"
STOP = "stop"  # a trigger stopped around the update and restarted after it
# The plan lists deletions first: they are the dangerous ones.
ACTIONS = (DELETE, CREATE, UPDATE, STOP, UNCHANGED)


@dataclass(frozen=True)
class Change:
    part: str  # code, pool, purview, factory, synapse
    action: str
    name: str  # e.g. `pipelines/PL_Extract_Spotify`
    detail: str = ""  # why: which fields differ, what is stopped around it

    def line(self) -> str:
        return f"  {self.action:<9} {self.name}" + (f"  ({self.detail})" if self.detail else "")


def writes(changes: Iterable[Change]) -> list[Change]:
    return [c for c in changes if c.action != UNCHANGED]


def render_plan(parts: list[tuple[str, list[Change]]]) -> str:
    """The plan as printed by --dry-run and before a real deploy asks for confirmation."""
    lines = []
    for part, changes in parts:
        counts = {action: sum(1 for c in changes if c.action == action) for action in ACTIONS}
        summary = ", ".join(f"{n} {action}" for action, n in counts.items() if n)
        lines.append(f"{part}: {summary or 'nothing'}")
        for action in ACTIONS:
            lines += [c.line() for c in changes if c.action == action and action != UNCHANGED]
        unchanged = [c.name for c in changes if c.action == UNCHANGED]
        if unchanged:
            lines.append(f"  unchanged {len(unchanged)}: {', '.join(unchanged)}")
    return "\n".join(lines)
