"""The FastAPI application: clients created in the lifespan, routers, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from api.auth import Passwords, TokenIssuer
from api.body_limit import BodySizeLimit
from api.config import ApiConfig
from api.contract import install_problem_schema
from api.correlation import CorrelationIds
from api.idempotency import IdempotencyKeys
from api.lag import LagWatch
from api.mastodon import attach_oauth_store, install_mastodon_api
from api.mastodon.tokens import oauth_user_of
from api.metrics import ApiMetrics, RequestMetrics
from api.node_lease import NodeLeases, leased_ids
from api.problems import install_problem_handlers
from api.publisher import EventPublisher
from api.rate_limits import RateLimiter, RateLimits, close_limiter, open_limiter
from api.read_models import ReadModels
from api.routes import (
    bookmarks,
    erasure,
    following,
    health,
    lists,
    media,
    notifications,
    search,
    sessions,
    streams,
    suggestions,
    timelines,
    trends,
    tweets,
    users,
)
from api.routes import metrics as metrics_route
from api.services import ApiServices
from api.use_cases.adapters import use_cases_for
from api.web import install_web_client
from projections.registry import PROJECTION_FAMILIES
from schemas import EventCodec

log = logging.getLogger(__name__)


def topics_read(config: ApiConfig) -> dict[str, frozenset[str]]:
    return {
        name: frozenset(config.topic(family) for family in families)
        for name, families in PROJECTION_FAMILIES.items()
    }


@asynccontextmanager
async def services_for(
    config: ApiConfig, metrics: ApiMetrics | None = None
) -> AsyncIterator[ApiServices]:
    redis = config.redis_factory()
    producer = AIOKafkaProducer(
        bootstrap_servers=config.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,  # concurrent requests share one produce request to the broker
    )
    offsets = AIOKafkaConsumer(
        bootstrap_servers=config.bootstrap_servers,
        enable_auto_commit=False,
        # Its end-offset lookups go to each partition's leader as the metadata names it; a
        # NOT_LEADER answer does not refresh the metadata, only its age does (5 minutes by
        # default): a broker restart must not blind the lag measurement that long.
        metadata_max_age_ms=5_000,
    )
    await producer.start()
    await offsets.start()
    try:
        async with leased_ids(NodeLeases(redis)) as ids:
            log.info("API process holds id node %s", ids.node_id)
            yield ApiServices(
                config=config,
                redis=redis,
                read_models=ReadModels(redis, topics_read(config)),
                publisher=EventPublisher(
                    producer,
                    EventCodec(keys=config.personal_keys),
                    config.topic,
                    on_acknowledged=metrics.observe_produce if metrics else None,
                ),
                offsets=offsets,
                ids=ids,
                tokens=TokenIssuer(config.jwt_secret, config.jwt_ttl_s),
                passwords=Passwords(),
            )
    finally:
        await offsets.stop()
        await producer.stop()
        await redis.aclose()


def rate_limiter_for(config: ApiConfig) -> RateLimiter | None:
    if config.rate_limits is None:
        return None
    limiter = open_limiter(config.rate_limit_storage_uri)
    return RateLimiter(limiter, config.rate_limits)


def create_app(config: ApiConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services_for(config, metrics) as services:
            app.state.services = services
            app.state.use_cases = use_cases_for(services)
            attach_oauth_store(app)
            app.state.lag_watch = lag_watch = LagWatch(
                services,
                config.ready_max_lag_events,
                on_measured=partial(metrics.observe_lag, topics_read=topics_read(config)),
            )
            app.state.rate_limiter = limiter = rate_limiter_for(config)
            app.state.live_hub = hub = streams.live_hub_for(services)
            hub.on_connections = metrics.stream_connections.set
            hub.start()
            try:
                yield
            finally:
                await hub.stop()
                await lag_watch.close()
                if limiter is not None:
                    await close_limiter(limiter.limiter)
                metrics.process_exited()

    metrics = ApiMetrics(config.metrics_multiprocess_dir)
    app = FastAPI(
        title="Chirp",
        version="1",
        summary="An event-sourced social backend: writes go to Kafka, reads come from projections.",
        lifespan=lifespan,
        docs_url=None,  # served by api.web.docs from vendored copies (no CDN)
        redoc_url=None,
    )
    app.state.metrics = metrics
    # Added last is outermost: bodies are size-checked before idempotency keys are looked up.
    app.add_middleware(IdempotencyKeys, redis_of=lambda scope: scope["app"].state.services.redis)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=config.max_body_bytes,
        larger_limits=dict.fromkeys(
            (
                "/v1/media",
                "/api/v1/media",
                "/api/v2/media",
                "/api/v1/accounts/update_credentials",  # an avatar upload
            ),
            config.media_max_bytes,
        ),
    )
    # Outermost: every answer, a 413 or an idempotent replay included, counts and is labelled.
    app.add_middleware(
        RateLimits,
        limiter_of=lambda scope: getattr(scope["app"].state, "rate_limiter", None),
        tokens_of=lambda scope: scope["app"].state.services.tokens,
        oauth_user_of=oauth_user_of,
    )
    app.add_middleware(RequestMetrics)  # times every answer, 429s included
    # Outermost of all: the correlation id is set before anything else runs or logs.
    app.add_middleware(CorrelationIds)
    install_problem_handlers(app)
    install_problem_schema(app)
    routers = (
        health.router,
        metrics_route.router,
        users.router,
        erasure.router,
        sessions.router,
        tweets.router,
        following.router,
        timelines.router,
        trends.router,
        media.router,
        suggestions.router,
        bookmarks.router,
        lists.router,
        search.router,
        streams.router,
        notifications.router,
    )
    for router in routers:
        app.include_router(router)
    install_web_client(app)
    install_mastodon_api(app)
    return app
