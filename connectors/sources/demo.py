"""``demo``: the simulated multilingual stream of :class:`connectors.demo.DemoStream` as a connector.

Options: ``rate`` (mentions per second on average), ``seed``, ``crisis_after_s`` (seconds until the complaint
snowballs; empty or negative for none), ``speed`` (simulated seconds per real second), ``limit`` (stop after this
many mentions; default: never). Mentions go out when the clock reaches their ``fetched_at``, as a live connector
would publish them. The demo keeps no cursor: a restart starts a fresh simulation from now.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import Batch, Connector, State
from connectors.demo import DemoStream, in_fetch_order
from connectors.pacing import Pacer

SOURCE = "demo"


class DemoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: float = Field(8.0, gt=0)
    seed: int = 7
    crisis_after_s: float | None = 90.0
    speed: float = Field(1.0, gt=0)
    limit: int | None = Field(None, ge=0)
    batch_size: int = Field(200, ge=1)

    @field_validator("crisis_after_s", mode="before")
    @classmethod
    def _none_when_blank_or_negative(cls, value: Any) -> Any:
        if value in ("", "none", "None") or (isinstance(value, int | float) and value < 0):
            return None
        return value


class DemoConnector(Connector):
    source = SOURCE

    def __init__(self, name: str, options: DemoOptions) -> None:
        super().__init__(name)
        self.options = options

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        o = self.options
        stream = DemoStream(seed=o.seed, start=datetime.now(UTC), rate_per_s=o.rate, crisis_after_s=o.crisis_after_s)
        pacer = Pacer(o.speed, origin=stream.start)
        batch = Batch()
        for sent, mention in enumerate(in_fetch_order(stream)):
            if o.limit is not None and sent >= o.limit:
                break
            if pacer.delay(mention.fetched_at) > 0:
                if batch.mentions:
                    yield _closed(batch)
                    batch = Batch()
                await asyncio.sleep(pacer.delay(mention.fetched_at))
            batch.mentions.append(mention)
            if len(batch.mentions) >= o.batch_size:
                yield _closed(batch)
                batch = Batch()
        if batch.mentions:
            yield _closed(batch)


def _closed(batch: Batch) -> Batch:
    batch.fetched = len(batch.mentions)
    return batch


def build(name: str, options: Mapping[str, Any]) -> DemoConnector:
    return DemoConnector(name, DemoOptions.model_validate(dict(options)))
