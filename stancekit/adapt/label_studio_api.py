"""A small client of Label Studio's REST API (standard library only): what the round trip
against a real server needs — create a project with stancekit's labeling config, import tasks,
add annotator accounts, submit annotations, export JSON.

Authentication is a user's API token (``Authorization: Token ...``): the legacy token, enabled
with ``label-studio start --enable-legacy-api-token`` or in the organisation's settings.

Example:
    >>> api = LabelStudioAPI("http://localhost:8089", token)  # doctest: +SKIP
    >>> project = api.create_project("my corpus", labeling_config())  # doctest: +SKIP
    >>> api.import_tasks(project, json.load(open("tasks.json")))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..errors import StanceKitError
from .label_studio import FROM_NAME, TO_NAME


class LabelStudioError(StanceKitError):
    """The server refused a request or cannot be reached."""


class LabelStudioAPI:
    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise LabelStudioError(f"{method} {path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LabelStudioError(f"{method} {path}: cannot reach {self.url} ({exc})") from None
        return json.loads(raw) if raw else None

    def version(self) -> str:
        return self.request("GET", "/api/version")["release"]

    def whoami(self) -> dict[str, Any]:
        return self.request("GET", "/api/current-user/whoami")

    def create_project(self, title: str, label_config: str) -> int:
        return self.request("POST", "/api/projects", {"title": title,
                                                      "label_config": label_config})["id"]

    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        return self.request("POST", f"/api/projects/{project}/import", tasks)

    def tasks(self, project: int) -> list[dict[str, Any]]:
        out, page = [], 1
        while True:
            got = self.request("GET", f"/api/tasks?project={project}&page={page}&page_size=100")
            batch = got["tasks"] if isinstance(got, dict) else got
            out.extend(batch)
            if len(batch) < 100:
                return out
            page += 1

    def create_user(self, email: str) -> int:
        """An annotator account in the token owner's organisation; its id (an existing
        account with that email is reused)."""
        users = self.request("GET", "/api/users")
        for user in users:
            if user.get("email") == email:
                return user["id"]
        return self.request("POST", "/api/users", {"email": email,
                                                   "username": email.split("@")[0]})["id"]

    def annotate(self, task: int, choice: str | None, user: int, *,
                 cancelled: bool = False) -> int:
        """Submit ``user``'s annotation of ``task`` (``choice`` of the stance control, or a
        skip with ``cancelled``) and return its id."""
        result = [] if cancelled else [{"from_name": FROM_NAME, "to_name": TO_NAME,
                                        "type": "choices", "value": {"choices": [choice]}}]
        return self.request("POST", f"/api/tasks/{task}/annotations",
                            {"result": result, "completed_by": user,
                             "was_cancelled": cancelled})["id"]

    def export(self, project: int) -> list[dict[str, Any]]:
        """The project's JSON export (every task, annotated or not)."""
        return self.request("GET", f"/api/projects/{project}/export?exportType=JSON"
                                   "&download_all_tasks=true")
