"""A smista webhook receiver in Python, standard library only.

Verifies each ticket.suggested delivery (Standard Webhooks v1: HMAC-SHA256
of "webhook-id.webhook-timestamp.body" with the endpoint's secret, given in
WEBHOOK_SECRET as whsec_...) and prints it as one JSON line. It
deduplicates on webhook-id and answers 2xx fast.

v1a (Ed25519) needs a library: Python's standard library has no Ed25519
(the `cryptography` package does: Ed25519PublicKey.from_public_bytes).

    WEBHOOK_SECRET=whsec_... PORT=8000 python3 receiver.py
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
SECRET = os.environ.get("WEBHOOK_SECRET", "")
if not SECRET:
    sys.exit("set WEBHOOK_SECRET (whsec_...)")
# The key is the base64 after the whsec_ prefix, decoded: not the text.
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
SEEN = set()


def verify(body: bytes, headers) -> None:
    """Raise ValueError unless one v1 signature matches and the timestamp is fresh."""
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    sigs = headers.get("webhook-signature", "")
    if not msg_id or not ts.isdigit():
        raise ValueError("missing or malformed webhook-id or webhook-timestamp")
    if abs(time.time() - int(ts)) > TOLERANCE_SECONDS:
        raise ValueError("webhook-timestamp outside the tolerance")
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    for sig in sigs.split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise ValueError("no valid signature")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        # Verify the raw bytes, before any JSON parsing.
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            verify(body, self.headers)
        except ValueError as err:
            print(f"rejected {self.headers.get('webhook-id')}: {err}", file=sys.stderr, flush=True)
            self.send_response(400)
            self.end_headers()
            return
        msg_id = self.headers["webhook-id"]
        if msg_id in SEEN:  # already handled: acknowledge, do nothing
            self.send_response(200)
            self.end_headers()
            return
        SEEN.add(msg_id)
        t = json.loads(body)
        line = {"webhook_id": msg_id, "event": t.get("event"), "email_id": t.get("email_id"), "subject": t.get("subject")}
        print(json.dumps(line), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass  # one line per event is printed above


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
