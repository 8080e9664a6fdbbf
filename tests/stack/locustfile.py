"""The load of tests/stack/test_stack.py and bench/load.py: logged-in people of every role reading the dashboard, the
portfolio list and initiative pages, and API clients with a token reading the API.

Run by locust in a process of its own (it patches the standard library with gevent), against the stack's gunicorn:
    locust -f tests/stack/locustfile.py --headless -u 20 -r 20 -t 60s --host http://127.0.0.1:PORT

A request fails on any status of 400 or more, and also when a page lands on the login form (a lost session answers
200 there) or an API answer is not the JSON expected. Every request's time and outcome is written, when the run
ends, to the JSON file TOLLGATE_LOAD_TIMINGS names, for exact percentiles (locust's own round to buckets).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, events, task

PASSWORD = "tollgate-demo"  # the demo logins' (tollgate/demo/northwind/company.yaml)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SAMPLES: list[dict[str, Any]] = []


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response_length: int, exception: Any = None,
            response: Any = None, **kwargs: Any) -> None:
    status = getattr(response, "status_code", None)
    SAMPLES.append({"name": name, "ms": response_time, "status": status,
                    "error": f"{type(exception).__name__}: {exception}" if exception else ""})


@events.quitting.add_listener
def _write(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("TOLLGATE_LOAD_TIMINGS")
    if path:
        with open(path, "w") as out:
            json.dump(SAMPLES, out)


def initiative_ids(client: Any, name: str, **headers: str) -> list[int]:
    """The ids of the first page of initiatives this user may see (the API lists only those)."""
    with client.get("/api/initiatives/", name=name, headers=headers, catch_response=True) as response:
        try:
            ids = [row["id"] for row in response.json()["results"]]
        except (ValueError, KeyError, TypeError):
            response.failure(f"not the initiative list: {response.text[:200]!r}")
            return []
        if not ids:
            response.failure("no initiative visible")
        return ids


class Person(HttpUser):
    """Someone with a browser: logs in through the form, then reads pages."""

    abstract = True
    username = ""
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        form = self.client.get("/accounts/login/", name="login")
        match = CSRF_FIELD.search(form.text)
        token = match.group(1) if match else ""
        with self.client.post("/accounts/login/", name="login", catch_response=True,
                              data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
                              headers={"Referer": f"{self.host}/accounts/login/"}) as response:
            if "/accounts/login/" in response.url:
                response.failure(f"{self.username} could not log in")
        self.ids = initiative_ids(self.client, "login: initiatives")

    def page(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if "/accounts/login/" in response.url:
                response.failure("landed on the login form")

    @task(2)
    def dashboard(self) -> None:
        self.page("/portfolio/dashboard/", "dashboard")

    @task(2)
    def portfolio_list(self) -> None:
        self.page("/portfolio/initiatives/", "portfolio list")

    @task(3)
    def initiative_page(self) -> None:
        if self.ids:
            self.page(f"/portfolio/initiatives/{random.choice(self.ids)}/", "initiative page")


class Executive(Person):
    username = "executive"


class Owner(Person):
    username = "owner"


class Reviewer(Person):
    username = "reviewer"


class Administrator(Person):
    username = "admin"


_api_logins = itertools.cycle(["executive", "owner", "reviewer", "admin", "reviewer2"])


class ApiClient(HttpUser):
    """A script with an API token (POST /api/auth/token/), each of a different role in turn."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        username = next(_api_logins)
        with self.client.post("/api/auth/token/", name="login: token", catch_response=True,
                              json={"username": username, "password": PASSWORD}) as response:
            try:
                token = response.json()["token"]
            except (ValueError, KeyError, TypeError):
                response.failure(f"no token for {username}: {response.text[:200]!r}")
                token = ""
        self.client.headers["Authorization"] = f"Token {token}"
        self.ids = initiative_ids(self.client, "login: initiatives")

    def json(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            try:
                response.json()
            except ValueError:
                response.failure(f"not JSON: {response.text[:200]!r}")

    @task(2)
    def initiatives(self) -> None:
        self.json("/api/initiatives/", "api initiatives")

    @task(3)
    def initiative(self) -> None:
        if self.ids:
            self.json(f"/api/initiatives/{random.choice(self.ids)}/", "api initiative")

    @task(1)
    def dashboard(self) -> None:
        self.json("/api/dashboard/", "api dashboard")
