"""Request headers for the target (``--header 'NAME: VALUE'``), kept out of every file.

A value may be ``env:VAR``, read from the environment, so that an API key never has to be
typed on a command line. The resolved headers travel to the load generator in one
environment variable, like the basic-auth credentials, and nothing writes their values down:
run.json keeps only their names, and no error message quotes a value.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence

from scenarios.catalog import BASIC_AUTH_ENV

#: The resolved headers, as a JSON object, in the load generator's environment.
HEADERS_ENV = "LOADKIT_HEADERS"
ENV_PREFIX = "env:"
# RFC 9110 token characters.
_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def parse_header(text: str) -> tuple[str, str]:
    """``"NAME: VALUE"`` as (name, value); ValueError naming the header but never its value."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep:
        raise ValueError("--header must be 'NAME: VALUE' (no colon found)")
    if not _NAME.match(name):
        raise ValueError("--header must be 'NAME: VALUE'; the name is not a valid header name")
    return name, _checked_value(name, value.strip())


def _checked_value(name: str, value: str) -> str:
    if not value:
        raise ValueError(f"--header {name}: the value is empty")
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"--header {name}: the value holds a line break or NUL")
    return value


def resolve_headers(options: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Every ``--header``, with ``env:VAR`` values read from ``environ``."""
    headers: dict[str, str] = {}
    for text in options:
        name, value = parse_header(text)
        if value.startswith(ENV_PREFIX):
            variable = value[len(ENV_PREFIX) :].strip()
            if not variable:
                raise ValueError(f"--header {name}: env: needs a variable name")
            if not environ.get(variable):
                raise ValueError(f"--header {name}: environment variable {variable} is not set")
            value = _checked_value(name, environ[variable].strip())
        if any(existing.lower() == name.lower() for existing in headers):
            raise ValueError(f"--header {name} is given twice")
        headers[name] = value
    return headers


def basic_auth_value(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def with_basic_auth(
    headers: Mapping[str, str], credentials: tuple[str, str] | None
) -> dict[str, str]:
    """``headers`` plus an Authorization header for ``credentials``, unless one is given."""
    merged = dict(headers)
    if credentials is not None and not any(k.lower() == "authorization" for k in merged):
        merged["Authorization"] = basic_auth_value(*credentials)
    return merged


def encode_for_environment(headers: Mapping[str, str]) -> str:
    return json.dumps(dict(headers))


def headers_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What a load generator sends with every request: ``LOADKIT_HEADERS`` and, as an
    Authorization header, ``LOADKIT_BASIC_AUTH`` ("user:password")."""
    headers: dict[str, str] = {}
    text = environ.get(HEADERS_ENV, "")
    if text:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError(f"{HEADERS_ENV} must hold a JSON object")
        headers = {str(k): str(v) for k, v in document.items()}
    user, _, password = environ.get(BASIC_AUTH_ENV, "").partition(":")
    credentials = (user, password) if user or password else None
    return with_basic_auth(headers, credentials)
