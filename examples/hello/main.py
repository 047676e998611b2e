"""A small App Engine app using only Python's standard library.

App Engine (and `appcfg serve`) start it with its entrypoint,
`python3 main.py`, and send it requests on $PORT.
"""

import html
import json
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server


def log(severity, message):
    # One JSON object per line: Cloud Logging (and appcfg request_logs)
    # read its severity and message.
    print(json.dumps({"severity": severity, "message": message}), flush=True)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        log("INFO", "rendering the home page")
        greeting = html.escape(os.environ.get("GREETING", "Hello"))
        body = f"""<!DOCTYPE html>
<html><head><title>hello</title><link rel="stylesheet" href="/static/style.css"></head>
<body><h1>{greeting}!</h1>
<p>Service <b>{html.escape(os.environ.get("GAE_SERVICE", "?"))}</b>,
version <b>{html.escape(os.environ.get("GAE_VERSION", "?"))}</b>,
runtime <b>{html.escape(os.environ.get("GAE_RUNTIME", "?"))}</b>.</p>
<p><a href="/env">/env</a> shows what App Engine told the instance.</p>
</body></html>
"""
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]
    if path == "/env":
        env = {k: v for k, v in os.environ.items() if k.startswith(("GAE_", "GOOGLE_")) or k in ("PORT", "GREETING")}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(env, indent=1, sort_keys=True).encode()]
    log("WARNING", f"no page at {path}")
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # App Engine writes the request log itself


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8080"))
    with make_server("", port, app, handler_class=QuietHandler) as server:
        print(f"listening on port {port}", file=sys.stderr, flush=True)
        server.serve_forever()
