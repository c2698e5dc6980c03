"""Talk to a rating page over HTTP, as the page's own script does (tests only)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable


class RatingClient:
    """GET the state and POST ratings to one rating page."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token

    def request(self, path: str, body: bytes | dict | None = None, token: str | None = None,
                timeout: float = 10.0) -> tuple[int, dict]:
        """(status, JSON answer); ``token=""`` sends none."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        token = self.token if token is None else token
        if token:
            headers["X-Rating-Token"] = token
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def state(self) -> dict:
        status, state = self.request("api/state")
        assert status == 200, state
        return state

    def wait_for_items(self, timeout_s: float = 60.0, alive: Callable[[], bool] = lambda: True) -> dict:
        """The state once something waits for a rating (bounded by ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and alive():
            try:
                state = self.state()
            except (urllib.error.URLError, ConnectionError):
                state = {"items": []}  # not serving yet
            if state["items"]:
                return state
            time.sleep(0.05)
        raise TimeoutError("nothing to rate appeared")

    def rate(self, state: dict, item: dict, **answer: str) -> int:
        status, reply = self.request("api/rate", {"round": state["round"], "id": item["id"], **answer})
        assert status == 200, reply
        return reply["left"]


def score_in_background(reward, completions: list[str], prompts: list[str] | None = None):
    """Call ``reward`` in a thread (it waits for ratings); (thread, {"scores": ...} once done)."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "scores", reward(completions, ["a reference"] * len(completions), prompts)))
    thread.start()
    return thread, result
