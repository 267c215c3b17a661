"""Request and response bodies of the cross-check and the shoppers' reliability."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audit_service.models.performance import CrossCheckStatus, CrossCheckVerdict


class CrossCheckField(BaseModel):
    name: Literal["wait_s", "counter_staffed", "queue_length"]
    reported: bool | int | float | None = Field(
        description="The shopper's answer (null: unanswered, N/A or hidden)"
    )
    measured: bool | int | float | None = Field(
        description="What the cameras measured at the arrival (null: nothing)"
    )
    tolerance: float | None = Field(
        description="The largest difference that still agrees (seconds or people; null for "
        "counter_staffed, which must be equal)"
    )
    agrees: bool | None = Field(description="null when either side is missing")


class CrossCheckRead(BaseModel):
    id: int
    audit_id: int
    outlet_id: int
    outlet: str
    counter_id: int | None = Field(description="The counter the shopper named; null: the outlet's")
    auditor_id: int
    auditor: str
    at: datetime = Field(description="The arrival instant (the audit's started_at)")
    status: CrossCheckStatus
    agrees: bool | None = Field(
        description="What counts for the shopper's reliability (null: not compared, or unclear)"
    )
    fields: list[CrossCheckField]
    verdict: CrossCheckVerdict | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str
    computed_at: datetime


class CrossCheckPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[CrossCheckRead]


class CrossCheckReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: CrossCheckVerdict = Field(
        description="shopper: the report stands (the camera was wrong); camera: the cameras "
        "stand (the report was wrong); unclear: left out of the shopper's rating"
    )
    comment: str = Field("", max_length=2000)


class ShopperRead(BaseModel):
    auditor_id: int
    auditor: str
    checks: int = Field(description="Cross-checks of this auditor in the caller's scope")
    agreed: int = Field(description="Checks that count as agreeing (agrees = true)")
    compared: int = Field(description="Checks that could be compared (agrees not null)")
    raw: float | None = Field(description="agreed / compared, unshrunk (null: nothing compared)")
    reliability: float = Field(description="The shrunk agreement rate, 0..1")
    low: float
    high: float
    provisional: bool = Field(description="Fewer than 5 compared checks")
