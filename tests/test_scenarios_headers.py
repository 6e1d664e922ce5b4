"""Request headers for the target: parsing, ``env:VAR`` values, basic auth, and the trip to the
load generator through its environment. No error message may ever show a header's value."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.catalog import BASIC_AUTH_ENV
from scenarios.headers import (
    HEADERS_ENV,
    encode_for_environment,
    headers_from_environment,
    parse_header,
    resolve_headers,
    with_basic_auth,
)
from tests.examples import examples

#: A secret header value: it must never appear in a message.
MARKER = "s3cr3t-MARKER"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("text", "header"),
    [("X-Api-Key: abc", ("X-Api-Key", "abc")),
     ("  Authorization :  Bearer a:b:c  ", ("Authorization", "Bearer a:b:c")),  # the first colon
     ("x_trace.id:1", ("x_trace.id", "1"))],
)  # fmt: skip
def test_headers_parse_to_name_and_value(text, header):
    assert parse_header(text) == header


def test_env_values_are_read_from_the_environment_and_literals_kept():
    headers = resolve_headers(
        ["X-Api-Key: env:API_KEY", "X-Env: environment", "X-Spaced: env: SPACED "],
        {"API_KEY": MARKER, "SPACED": "v"},
    )
    assert headers == {"X-Api-Key": MARKER, "X-Env": "environment", "X-Spaced": "v"}


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: parse_header(f"X Key: {MARKER}"),
      "--header must be 'NAME: VALUE'; the name is not a valid header name"),
     (lambda: parse_header(f": {MARKER}"),
      "--header must be 'NAME: VALUE'; the name is not a valid header name"),
     (lambda: parse_header(f"{MARKER} {MARKER}"),
      "--header must be 'NAME: VALUE' (no colon found)"),
     (lambda: parse_header("X-Key:  "), "--header X-Key: the value is empty"),
     (lambda: parse_header(f"X-Key: {MARKER}\r\nX-Evil: 1"),
      "--header X-Key: the value holds a line break or NUL"),
     (lambda: parse_header(f"X-Key: {MARKER}\0"),
      "--header X-Key: the value holds a line break or NUL"),
     (lambda: resolve_headers(["X-Key: env:API_KEY"], {"OTHER": MARKER}),
      "--header X-Key: environment variable API_KEY is not set"),
     (lambda: resolve_headers(["X-Key: env:API_KEY"], {"API_KEY": ""}),
      "--header X-Key: environment variable API_KEY is not set"),
     (lambda: resolve_headers(["X-Key: env: "], {}), "--header X-Key: env: needs a variable name"),
     (lambda: resolve_headers([f"X-Key: {MARKER}", f"x-key: {MARKER}"], {}),
      "--header x-key is given twice"),
     (lambda: headers_from_environment({HEADERS_ENV: f'["{MARKER}"]'}),
      f"{HEADERS_ENV} must hold a JSON object")],
)  # fmt: skip
def test_bad_headers_are_refused_with_one_line_that_never_shows_a_value(call, message):
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message
    assert MARKER not in message


def test_malformed_header_json_is_refused_without_showing_it():
    with pytest.raises(ValueError) as caught:
        headers_from_environment({HEADERS_ENV: f'{{"X-Key": {MARKER}}}'})
    assert MARKER not in str(caught.value)


def test_a_bare_value_without_a_name_is_not_echoed():
    """``--header "$TOKEN"`` (the name forgotten) must not print the token back."""
    with pytest.raises(ValueError) as caught:
        parse_header(MARKER)
    assert str(caught.value).startswith("--header must be 'NAME: VALUE'")
    assert MARKER not in str(caught.value)


def test_a_value_from_the_environment_may_not_hold_a_line_break_either():
    """A literal value with CR/LF is refused; read through env:VAR it would smuggle a header."""
    with pytest.raises(ValueError) as caught:
        resolve_headers(["X-Key: env:API_KEY"], {"API_KEY": f"{MARKER}\r\nX-Evil: 1"})
    assert str(caught.value) == "--header X-Key: the value holds a line break or NUL"


def test_basic_auth_adds_an_authorization_header_unless_one_is_given():
    assert with_basic_auth({"X-A": "1"}, ("user", "pa:ss")) == {
        "X-A": "1",
        "Authorization": basic("user", "pa:ss"),
    }
    own = {"authorization": "Bearer t"}
    assert with_basic_auth(own, ("user", "pw")) == own  # any case of the name counts
    assert with_basic_auth({"X-A": "1"}, None) == {"X-A": "1"}


@pytest.mark.parametrize(
    ("environ", "headers"),
    [({}, {}),
     ({HEADERS_ENV: "", BASIC_AUTH_ENV: ""}, {}),
     ({HEADERS_ENV: '{"X-A": "1", "X-N": 2}'}, {"X-A": "1", "X-N": "2"}),
     ({BASIC_AUTH_ENV: "user:pa:ss"}, {"Authorization": basic("user", "pa:ss")}),
     ({BASIC_AUTH_ENV: "user:"}, {"Authorization": basic("user", "")}),
     ({HEADERS_ENV: '{"Authorization": "Bearer t"}', BASIC_AUTH_ENV: "u:p"},
      {"Authorization": "Bearer t"})],
)  # fmt: skip
def test_the_load_generator_reads_headers_and_basic_auth_from_its_environment(environ, headers):
    assert headers_from_environment(environ) == headers


NAMES = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", fullmatch=True)


@settings(max_examples=examples(200), deadline=None)
@given(st.dictionaries(NAMES, st.text(min_size=1), max_size=5))
def test_headers_survive_the_trip_through_the_environment(headers):
    assert headers_from_environment({HEADERS_ENV: encode_for_environment(headers)}) == headers
