"""The FastAPI application: clients created in the lifespan, routers, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from redis.asyncio import BlockingConnectionPool, Redis

from api.auth import Passwords, TokenIssuer
from api.body_limit import BodySizeLimit
from api.idempotency import IdempotencyKeys
from api.problems import install_problem_handlers
from api.publisher import EventPublisher
from api.read_models import ReadModels
from api.routes import following, health, sessions, timelines, trends, tweets, users
from api.services import ApiServices
from domain.ids import MAX_NODE_ID, IdGenerator
from projections.registry import PROJECTION_FAMILIES
from schemas import EventCodec

if TYPE_CHECKING:
    from infra.settings import Settings

log = logging.getLogger(__name__)

NODE_COUNTER_KEY = "chirp:id-nodes"


async def allocate_node_id(redis: Redis) -> int:
    """A node id no other running process holds (up to 1,024 processes at once)."""
    return int(await redis.incr(NODE_COUNTER_KEY)) % (MAX_NODE_ID + 1)


def topics_read(settings: Settings) -> dict[str, frozenset[str]]:
    return {
        name: frozenset(settings.topic(family) for family in families)
        for name, families in PROJECTION_FAMILIES.items()
    }


@asynccontextmanager
async def services_for(settings: Settings) -> AsyncIterator[ApiServices]:
    # A bounded pool that makes requests wait for a connection instead of failing under bursts.
    redis = Redis(
        connection_pool=BlockingConnectionPool.from_url(
            settings.redis_dsn, max_connections=settings.redis_max_connections, timeout=10
        )
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
    )
    offsets = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    await producer.start()
    await offsets.start()
    try:
        node_id = await allocate_node_id(redis)
        log.info("API process holds id node %d", node_id)
        yield ApiServices(
            settings=settings,
            redis=redis,
            read_models=ReadModels(redis, topics_read(settings)),
            publisher=EventPublisher(producer, EventCodec(), settings.topic),
            offsets=offsets,
            ids=IdGenerator(node_id),
            tokens=TokenIssuer(settings.jwt_secret, settings.jwt_ttl_s),
            passwords=Passwords(),
        )
    finally:
        await offsets.stop()
        await producer.stop()
        await redis.aclose()


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services_for(settings) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="Chirp",
        version="1",
        summary="An event-sourced social backend: writes go to Kafka, reads come from projections.",
        lifespan=lifespan,
    )
    # Added last is outermost: bodies are size-checked before idempotency keys are looked up.
    app.add_middleware(IdempotencyKeys, redis_of=lambda scope: scope["app"].state.services.redis)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_problem_handlers(app)
    routers = (
        health.router,
        users.router,
        sessions.router,
        tweets.router,
        following.router,
        timelines.router,
        trends.router,
    )
    for router in routers:
        app.include_router(router)
    return app
