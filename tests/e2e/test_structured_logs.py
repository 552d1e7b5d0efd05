"""Structured logs: JSON lines whose correlation id follows a write from the HTTP request,
through the event's headers, into the worker's lines about it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson

from api.positions import decode_token
from infra.app_processes import ApiProcess, WorkerProcess
from infra.settings import Settings
from tests.integration.test_log_contract import read_record
from tests.support.client import ChirpClient
from tests.support.waiting import wait_for


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_bytes().splitlines():
        if line.startswith(b"{"):
            lines.append(orjson.loads(line))
    return lines


def test_a_write_s_correlation_id_reaches_the_event_and_the_worker_s_log(
    client: ChirpClient, api_server: ApiProcess, worker: WorkerProcess, test_settings: Settings
) -> None:
    account = client.register()
    correlation_id = f"trace-{uuid.uuid4().hex}"
    response = client.http.post(
        "/v1/tweets",
        json={"text": "follow me through the logs"},
        headers={**account.auth, "X-Correlation-Id": correlation_id},
    )
    assert response.status_code == 201
    assert response.headers["X-Correlation-Id"] == correlation_id

    [position] = decode_token(response.headers["Chirp-Position"])
    _, headers, _ = read_record(test_settings, position.topic, position.partition, position.offset)
    assert headers["chirp-correlation-id"] == correlation_id.encode()

    request_line = wait_for(
        lambda: next(
            (
                line
                for line in json_lines(api_server.log_file)
                if line.get("correlation_id") == correlation_id
            ),
            None,
        ),
        timeout_s=10,
        what="the API's line about the request",
    )
    assert request_line["message"] == "request"
    assert request_line["process"] == "api"
    assert request_line["method"] == "POST"
    assert request_line["path"] == "/v1/tweets"
    assert request_line["status"] == 201
    assert request_line["level"] == "INFO"
    assert "time" in request_line

    worker_line = wait_for(
        lambda: next(
            (
                line
                for line in json_lines(worker.log_file)
                if correlation_id in line.get("correlation_ids", ())
            ),
            None,
        ),
        timeout_s=30,
        what="the worker's line about the batch that applied the event",
    )
    assert worker_line["message"] == "batch applied"
    assert worker_line["process"] == "worker"
    assert worker_line["family"] == "tweets"


def test_a_request_without_a_usable_correlation_id_gets_a_new_one(client: ChirpClient) -> None:
    first = client.http.get("/healthz")
    second = client.http.get("/healthz", headers={"X-Correlation-Id": "not allowed!"})
    made = {first.headers["X-Correlation-Id"], second.headers["X-Correlation-Id"]}
    assert len(made) == 2
    assert "not allowed!" not in made
    assert all(len(value) == 32 for value in made)
