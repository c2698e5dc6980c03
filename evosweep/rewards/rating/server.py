"""The rating page's web server: Flask on werkzeug's threaded server, in a daemon thread.

Every request needs the run's token (``?token=`` or the ``X-Rating-Token`` header),
else 403; bodies over ``MAX_BODY_BYTES`` get 413, malformed ones 400, and none of
them changes a rating.
"""

from __future__ import annotations

import hmac
import logging
import socket
import threading
from importlib.resources import files

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from evosweep.rewards.rating.queue import RatingQueue, RatingRejected

MAX_BODY_BYTES = 4096
SECURITY_HEADERS = {
    # the page's own inline script and style only; outputs are set as text, never as HTML
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                               "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token is in the address
    "Cache-Control": "no-store",
}


def create_app(queue: RatingQueue, token: str, show_reference: bool) -> Flask:
    """The Flask app: ``/`` the page, ``/api/state`` what waits, ``POST /api/rate`` one rating."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    page = files("evosweep.rewards.rating").joinpath("page.html").read_text(encoding="utf-8")

    @app.before_request
    def require_token() -> None:
        given = request.headers.get("X-Rating-Token") or request.args.get("token") or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(403)

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/")
    def rating_page() -> Response:
        return Response(page, mimetype="text/html")

    @app.get("/api/state")
    def state() -> Response:
        return jsonify(queue.snapshot(show_reference))

    @app.post("/api/rate")
    def rate() -> tuple[Response, int]:
        try:
            left = queue.answer(request.get_json(silent=True))
        except RatingRejected as rejected:
            return jsonify(error=str(rejected)), rejected.status
        return jsonify(left=left), 200

    @app.errorhandler(HTTPException)
    def short_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(error=error.name), error.code or 500

    return app


class RatingServer:
    """Serves the page for one run; ``url`` carries the token."""

    def __init__(self, queue: RatingQueue, token: str, host: str, port: int, show_reference: bool) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the run's log
        # bound here, so that a port in use is an OSError to report (werkzeug would exit the process)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family)
        self._server = make_server(host, port, create_app(queue, token, show_reference), threaded=True,
                                   fd=self._socket.fileno())
        self.host, self.port = host, self._socket.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown_host}:{self.port}/"
        self.url = f"{self.base_url}?token={token}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="rating-page", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._socket.close()
        self._thread.join(timeout=5)
