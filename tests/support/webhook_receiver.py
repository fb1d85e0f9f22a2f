#!/usr/bin/python3
"""A webhook receiver for tests: a real HTTP server on loopback that records
every request it gets and answers with the statuses it is told to.

    webhook_receiver.py --port-file FILE --out FILE [options]

  --port-file FILE      once listening, the port is written there (written
                        whole, then renamed into place: a reader never sees
                        half of it)
  --out FILE            one JSON line per request is appended there, BEFORE
                        the answer is sent: when the client has its answer,
                        the line is in the file
  --host HOST           address to listen on (default 127.0.0.1)
  --port N              port to listen on (default 0, chosen by the system;
                        a given one lets a test bring a receiver back on the
                        port its sender already knows)
  --secret S            check X-Relais-Signature with the secret S
  --tolerance-s N       a signature verifies only if X-Relais-Timestamp is
                        within N seconds of now (default 300)
  --fail-first N        answer 503 to the first N requests
  --status-sequence L   then answer the statuses of the comma-separated list
                        L in turn, e.g. 503,429,200
  --status CODE         then answer CODE to every request (default 200)
  --retry-after VALUE   send "Retry-After: VALUE" with every 429 and 503
  --delay-ms N          wait N ms before answering (to make a client time out)

Request i (from 0) is answered 503 if i < N (--fail-first), else the
(i - N)th status of --status-sequence while there is one, else --status.
A 3xx answer carries "Location: /moved".

Each line of --out is a JSON object:
  n          the request's number, from 1
  method     "POST", ...
  path       the request's path
  client     the client's address and port: the same port on two lines
             means one connection served both requests
  headers    every request header, names in lowercase
  body       the body, as text (UTF-8, invalid bytes replaced)
  json       the body parsed as JSON, or null if it is not JSON
  signature  "verified", "mismatch", "stale" (timestamp out of tolerance),
             "missing" (no signature or timestamp header) or "unchecked"
             (no --secret)
  verified   true only for "verified"
  status     the status answered

The signature checked is the one sink_webhook sends:
  X-Relais-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
with timestamp the value of X-Relais-Timestamp, over the raw body bytes.

Standard library only, for Debian's /usr/bin/python3.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_args():
    parser = argparse.ArgumentParser(description="A webhook receiver for tests.")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret")
    parser.add_argument("--tolerance-s", type=int, default=300)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status-sequence", default="")
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--retry-after")
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    args.sequence = [int(s) for s in args.status_sequence.split(",") if s.strip()]
    return args


def check_signature(secret, headers, body, tolerance_s):
    if secret is None:
        return "unchecked"
    sent = headers.get("x-relais-signature")
    timestamp = headers.get("x-relais-timestamp")
    if not sent or not timestamp:
        return "missing"
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sent):
        return "mismatch"
    try:
        if abs(time.time() - int(timestamp)) > tolerance_s:
            return "stale"
    except ValueError:
        return "mismatch"
    return "verified"


class Receiver:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0

    def next_status(self):
        with self.lock:
            i = self.count
            self.count += 1
        a = self.args
        if i < a.fail_first:
            return i + 1, 503
        if i - a.fail_first < len(a.sequence):
            return i + 1, a.sequence[i - a.fail_first]
        return i + 1, a.status

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self.lock, open(self.args.out, "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()


def make_handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client may reuse its connection

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            n, status = receiver.next_status()
            signature = check_signature(receiver.args.secret, headers, body, receiver.args.tolerance_s)
            text = body.decode("utf-8", errors="replace")
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            receiver.record({
                "n": n,
                "method": self.command,
                "path": self.path,
                "client": "%s:%d" % self.client_address[:2],
                "headers": headers,
                "body": text,
                "json": parsed,
                "signature": signature,
                "verified": signature == "verified",
                "status": status,
            })
            if receiver.args.delay_ms > 0:
                time.sleep(receiver.args.delay_ms / 1000.0)
            answer = json.dumps({"status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            if status in (429, 503) and receiver.args.retry_after is not None:
                self.send_header("Retry-After", receiver.args.retry_after)
            if 300 <= status <= 399:
                self.send_header("Location", "/moved")
            self.end_headers()
            self.wfile.write(answer)

        do_POST = handle_any
        do_PUT = handle_any
        do_GET = handle_any

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            sys.stderr.write("webhook_receiver: " + (format % args) + "\n")

    return Handler


def main():
    args = parse_args()
    receiver = Receiver(args)
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((args.host, args.port), make_handler(receiver))
    server.daemon_threads = True
    port = server.server_address[1]
    partial = args.port_file + ".partial"
    with open(partial, "w", encoding="ascii") as f:
        f.write(str(port))
    os.replace(partial, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
