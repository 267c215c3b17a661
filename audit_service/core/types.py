"""Shared field types. Ids are bounded so no client value overflows a database integer."""

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ID = 2_147_483_647

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
