"""The clients and collaborators the API's handlers use, built once at startup."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from api.auth import Passwords, TokenIssuer
from api.config import ApiConfig
from api.hydration import ProfileCache
from api.node_lease import LeasedIds
from api.publisher import EventPublisher
from api.read_models import ReadModels
from projections.redis_client import RedisClient


@dataclass(frozen=True, slots=True)
class ApiServices:
    config: ApiConfig
    redis: RedisClient
    read_models: ReadModels
    publisher: EventPublisher
    offsets: AIOKafkaConsumer  # group-less consumer used only to read end offsets
    ids: LeasedIds  # issues ids only while this process holds its node-id lease
    tokens: TokenIssuer
    passwords: Passwords
    profiles: ProfileCache = field(default_factory=ProfileCache)
