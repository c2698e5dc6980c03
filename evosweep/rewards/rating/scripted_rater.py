"""A scripted person for a rating page: answers by chrF to the reference shown.

To check a setup end to end, or to count the clicks a mode costs, without a person::

    python -m evosweep.rewards.rating.scripted_rater 'http://127.0.0.1:8765/?token=...' --log clicks.jsonl

Score mode: the digit ``round(9 * chrF)``; pairwise: the output with the higher chrF (A on
ties). Each click is appended to ``--log`` with the page's stage. Stops when the run ends
(the page closes or stops answering) or after ``--max-s`` seconds.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sacrebleu.metrics import CHRF

_CHRF = CHRF()


def utility(output: str, reference: str) -> float:
    """The rater's hidden taste: sentence chrF of ``output`` against ``reference``, in [0, 1]."""
    return _CHRF.sentence_score(output, [reference]).score / 100.0


def answer(item: dict, mode: str) -> dict:
    """The rating request body for one item."""
    if mode == "pairwise":
        better_b = utility(item["b"], item["reference"] or "") > utility(item["a"], item["reference"] or "")
        return {"winner": "b" if better_b else "a"}
    return {"answer": str(round(9 * utility(item["output"], item["reference"] or "")))}


def _call(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-Rating-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def rate_until_done(page_url: str, log_path: Path | None, max_s: float, patience_s: float = 10.0) -> int:
    """Rate everything the page shows until the run ends; the number of clicks."""
    parts = urllib.parse.urlsplit(page_url)
    token = urllib.parse.parse_qs(parts.query).get("token", [""])[0]
    base = f"{parts.scheme}://{parts.netloc}/"
    clicks, deadline, last_seen = 0, time.monotonic() + max_s, None
    log = log_path.open("a", encoding="utf-8") if log_path else None
    try:
        while time.monotonic() < deadline:
            try:
                state = _call(base + "api/state", token)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if last_seen is not None and time.monotonic() - last_seen > patience_s:
                    break  # the run is gone (before the first answer: still loading its model)
                time.sleep(0.2)
                continue
            last_seen = time.monotonic()
            if state["closed"]:
                break
            for item in state["items"]:
                _call(base + "api/rate", token, {"round": state["round"], "id": item["id"],
                                                 **answer(item, state["mode"])})
                clicks += 1
                if log:
                    log.write(json.dumps({"stage": state["stage"], "mode": state["mode"]}) + "\n")
                    log.flush()
            time.sleep(0.05)
    finally:
        if log:
            log.close()
    return clicks


def main(argv: list[str] | None = None) -> None:
    """``python -m evosweep.rewards.rating.scripted_rater URL [--log F] [--max-s S]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the page's address, as the run printed it (token included)")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per click")
    parser.add_argument("--max-s", type=float, default=3600.0, help="stop after this many seconds")
    args = parser.parse_args(argv)
    print(f"{rate_until_done(args.url, args.log, args.max_s)} clicks")


if __name__ == "__main__":
    main()
