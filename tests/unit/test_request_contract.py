"""What the OpenAPI document says a request may hold is exactly what the API accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from api.models import PostTweetRequest, RegisterUserRequest, decimal_at_most
from api.positions import TOKEN_PATTERN, decode_token, encode_token
from api.problems import Problem
from domain.ids import MAX_ID
from schemas.log import Position


@given(st.integers(min_value=0, max_value=10**19 - 1))
def test_the_id_pattern_accepts_exactly_the_numbers_up_to_the_largest_id(number: int) -> None:
    pattern = re.compile(decimal_at_most(MAX_ID))
    assert bool(pattern.fullmatch(str(number))) == (number <= MAX_ID)
    assert bool(pattern.fullmatch(str(number).zfill(19))) == (number <= MAX_ID)


def test_the_id_pattern_refuses_more_digits_than_the_largest_id_has() -> None:
    assert not re.fullmatch(decimal_at_most(MAX_ID), "0" * 20)


@given(
    st.lists(
        st.builds(
            Position,
            st.from_regex(r"[A-Za-z0-9._-]{1,40}", fullmatch=True),
            st.integers(0, 10**9 - 1),
            st.integers(0, 10**18 - 1),
        ),
        min_size=1,
        max_size=32,
    )
)
def test_every_token_the_api_writes_matches_the_documented_pattern_and_reads_back(
    positions: list[Position],
) -> None:
    token = encode_token(positions)
    assert re.fullmatch(TOKEN_PATTERN, token)
    assert decode_token(token) == positions


@pytest.mark.parametrize("token", ["", "0", "not*a*token", "t:1", "t:1:2,", "t:-1:2"])
def test_a_token_outside_the_pattern_is_a_bad_request(token: str) -> None:
    with pytest.raises(Problem) as refused:
        decode_token(token)
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        {"text": "ok", "reply_to": False},
        {"text": "ok", "quote_of": 7},
        {"text": "ok", "media_ids": [1]},
        {"text": "ok", "reply_to": "9223372036854775808"},
        {"text": True},
        {"text": " \n "},
        {"text": "ok", "location": {"lat": "1", "lon": 0}},
        {"text": "ok", "location": {"lat": 90.5, "lon": 0}},
        {"text": "ok", "location": {"lat": 0, "lon": -180.1}},
    ],
)
def test_a_tweet_with_a_wrong_type_or_value_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PostTweetRequest.model_validate(body)


def test_ids_as_strings_and_integer_coordinates_are_accepted() -> None:
    body = {"text": "ok", "reply_to": "9223372036854775807", "location": {"lat": 90, "lon": -180}}
    assert PostTweetRequest.model_validate(body).reply_to == "9223372036854775807"


@pytest.mark.parametrize(
    "body",
    [
        {"handle": "has space", "password": "long enough"},
        {"handle": "a" * 16, "password": "long enough"},
        {"handle": "ada", "password": "short"},
        {"handle": "ada", "password": "long enough", "display_name": "tab\there"},
        {"handle": "ada", "password": "long enough", "display_name": "x" * 51},
    ],
)
def test_a_registration_breaking_the_documented_rules_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RegisterUserRequest.model_validate(body)
