"""One answer in a submission, as validation normalises it and scoring reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Answer:
    """``value`` is already normalised for the item's type (validation does that): bool, int
    (scale, duration seconds), float/int (number), str (choice name, text, "HH:MM"), list of
    choice names (multi choice) or None (unanswered, N/A, photo items)."""

    value: Any = None
    na: bool = False
    comment: str | None = None
    photos: tuple[str, ...] = ()
    badge: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, without empty optional fields."""
        data: dict[str, Any] = {"value": self.value, "na": self.na}
        if self.comment is not None:
            data["comment"] = self.comment
        if self.photos:
            data["photos"] = list(self.photos)
        if self.badge is not None:
            data["badge"] = self.badge
        return data
