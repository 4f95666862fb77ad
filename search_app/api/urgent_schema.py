"""The response model of the urgent notice (`SearchResponse.urgent` in
`search_app/api/schemas.py`): the call-emergency-services notice the readers'
page shows above the results, for API clients to show too. Its words and
triggers are the page's own (`search_app/search/urgent.py`); this only says
how they are sent. Kept apart from schemas.py so that module stays readable."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

URGENT_DOC = ("Present when the query describes what may be an emergency happening now (e.g. crushing chest "
              "pain): show it before the results, as the readers' page does. Null otherwise, which says nothing "
              "about whether the reader is safe.")


class EmergencyNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(description="The number to call, e.g. `911`.")
    region: str = Field(description="Where it is the emergency number, e.g. `US`, `Europe`.")


class Urgent(BaseModel):
    """The call-emergency-services notice. Not a diagnosis: show it whenever it is present."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["emergency"] = Field(description="How urgent: `emergency` (call now).")
    title: str = Field(description="A heading for the notice.")
    message: str = Field(description="The whole notice in words, numbers included; show it as it is.")
    numbers: list[EmergencyNumber] = Field(description="Emergency numbers to offer (as `tel:` links on a "
                                                       "phone), besides the local one.")
    conditions: list[str] = Field(description="What the query describes may be a sign of, e.g. "
                                              "`a heart attack`, `a stroke`.")
