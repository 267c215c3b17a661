from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from audit_service.accounts.schemas import USERNAME_PATTERN
from audit_service.core.types import DbId

MAX_WORKER_CAMERAS = 1000

CameraIds = Annotated[
    list[DbId],
    Field(
        default_factory=list,
        max_length=MAX_WORKER_CAMERAS,
        description="Ids of the cameras this worker runs (it may touch no other camera)",
    ),
]


class WorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field("", max_length=200)
    camera_ids: CameraIds
    token_name: str = Field("", max_length=100, description="A label for the first token")


class WorkerCameras(BaseModel):
    """The worker's whole camera set: cameras left out are unassigned."""

    model_config = ConfigDict(extra="forbid")
    camera_ids: CameraIds


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=100, description="A label, e.g. the host it runs on")


class TokenRead(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class WorkerCameraRead(BaseModel):
    id: int
    code: str
    outlet_id: int
    active: bool


class WorkerRead(BaseModel):
    id: int
    username: str
    display_name: str
    active: bool
    camera_ids: list[int]
    cameras: list[WorkerCameraRead]
    tokens: list[TokenRead] = Field(description="Every token issued, newest first")
    created_at: datetime


class WorkerWithToken(BaseModel):
    worker: WorkerRead
    token: str = Field(
        description="The API token (alw_...). Shown once: only its hash is stored. The worker "
        "sends it as 'Authorization: Bearer <token>'"
    )
