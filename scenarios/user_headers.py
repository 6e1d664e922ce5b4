"""Every user class sends the run's headers (``--header``, basic auth), built-in or not.

Imported only by Locust processes. Locust has no hook per user, so each user class's
``__init__`` is wrapped once, at ``init``: after Locust builds the user's client, the
headers become that client's defaults (an ``HttpUser``'s requests session, a
``FastHttpUser``'s user agent), and a request's own headers still win.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from locust import User, events
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

from scenarios.headers import headers_from_environment

logger = logging.getLogger(__name__)
_WRAPPED = "_kit_sends_headers"


def add_default_headers(client: Any, headers: Mapping[str, str]) -> bool:
    """Make ``headers`` the client's defaults; False for a client of another kind."""
    if isinstance(client, requests.Session):
        client.headers.update(headers)
        return True
    if isinstance(client, FastHttpSession):
        client.client.default_headers.update(headers)
        return True
    return False


def send_headers(user_class: type[User], headers: Mapping[str, str]) -> None:
    if user_class.__dict__.get(_WRAPPED):
        return
    built = user_class.__init__

    def __init__(self: User, *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        if not add_default_headers(getattr(self, "client", None), headers):
            logger.warning("%s has no HTTP client: it sends no --header", type(self).__name__)

    user_class.__init__ = __init__  # type: ignore[method-assign]
    setattr(user_class, _WRAPPED, True)


def _user_classes(environment: Environment) -> Iterable[type[User]]:
    available = getattr(environment, "available_user_classes", None) or {}
    return {*environment.user_classes, *available.values()}


@events.init.add_listener
def _send_headers_with_every_user(environment: Environment, **_kwargs: Any) -> None:
    headers = headers_from_environment(os.environ)
    if headers:
        for user_class in _user_classes(environment):
            send_headers(user_class, headers)
