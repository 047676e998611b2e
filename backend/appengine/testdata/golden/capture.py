#!/usr/bin/env python3
"""Records what the real gcloud sends for `gcloud app deploy` (google-apis.md §8).

Usage: python3 capture.py OUT.jsonl  (prints the port; see capture.sh)
A recording fake of the App Engine Admin API and Cloud Storage: answers just
enough for a deploy to complete and writes one JSON line per request.
"""
import json, re, sys
from urllib.parse import unquote
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMPTY = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
out = open(sys.argv[1], "w")
polls = {}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj=None, headers=None):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = {"method": self.command, "path": self.path}
        ct = self.headers.get("Content-Type", "")
        if ct.startswith("application/json") and body:
            rec["body"] = json.loads(body)
        elif body:
            rec["body_len"] = len(body)
            rec["content_type"] = ct
        if self.path.startswith("/upload/storage/"):
            # The object's name is in the query, or in the metadata part.
            m = re.search(r"[?&]name=([^&]+)", self.path) or re.search(rb'"name":\s*"([^"]+)"', body)
            rec["object"] = unquote(m.group(1) if isinstance(m.group(1), str) else m.group(1).decode())
        out.write(json.dumps(rec) + "\n")
        out.flush()
        p = self.path.split("?")[0]
        if re.match(r"/v1/projects/p/services/[\w.-]+$", p):
            # serviceusage: the flexible environment's API is enabled.
            return self.reply(200, {"name": p[4:], "state": "ENABLED"})
        if p.startswith("/storage/v1/b/runtime-builders"):
            return self.reply(404, {"error": {"code": 404, "message": "no"}})
        if p == "/v1/apps/p":
            return self.reply(200, {"id": "p", "name": "apps/p", "codeBucket": "staging.p.appspot.com",
                                    "servingStatus": "SERVING", "gcrDomain": "us.gcr.io", "locationId": "us-central",
                                    "defaultHostname": "p.appspot.com"})
        if p == "/v1/apps/p/services" and self.command == "GET":
            return self.reply(200, {"services": [{"id": "default", "name": "apps/p/services/default",
                                                  "split": {"allocations": {"old": 1.0}}}]})
        if p == "/storage/v1/b/staging.p.appspot.com":
            return self.reply(200, {"name": "staging.p.appspot.com"})
        if p == "/storage/v1/b/staging.p.appspot.com/o":
            return self.reply(200, {"items": [{"name": EMPTY, "size": "0", "timeCreated": "2026-11-26T00:00:00.000Z"}]})
        if p.startswith("/upload/storage/v1/b/staging.p.appspot.com/o"):
            name = rec["object"]
            m = re.search(rb'"size":\s*"(\d+)"', body)
            return self.reply(200, {"name": name, "bucket": "staging.p.appspot.com", "size": m.group(1).decode() if m else str(n)})
        if self.command in ("POST", "PATCH", "DELETE") and p.startswith("/v1/apps/"):
            op = "op%d" % (len(polls) + 1)
            polls[op] = 0
            return self.reply(200, {"name": "apps/p/operations/" + op, "done": False})
        m = re.match(r"/v1/apps/p/operations/(\w+)$", p)
        if m:
            polls[m.group(1)] = polls.get(m.group(1), 0) + 1
            return self.reply(200, {"name": "apps/p/operations/" + m.group(1), "done": polls[m.group(1)] >= 2,
                                    "response": {"id": "v2"}})
        m = re.match(r"/v1/apps/p/services/([\w-]+)/versions$", p)
        if m:
            s = m.group(1)
            return self.reply(200, {"versions": [{"id": "old", "name": "apps/p/services/%s/versions/old" % s, "servingStatus": "SERVING", "env": "standard"},
                                                 {"id": "v2", "name": "apps/p/services/%s/versions/v2" % s, "servingStatus": "SERVING", "env": "standard"}]})
        m = re.match(r"/v1/apps/p/services/([\w-]+)/versions/([\w-]+)$", p)
        if m:
            s, v = m.groups()
            return self.reply(200, {"id": v, "name": "apps/p/services/%s/versions/%s" % (s, v), "servingStatus": "SERVING", "env": "standard"})
        return self.reply(404, {"error": {"code": 404, "message": "not faked: " + p}})

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
