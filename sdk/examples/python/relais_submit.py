#!/usr/bin/python3
"""relais_submit: submit posts to relaisd, a source written from sdk/PROTOCOL.md.

Reads posts as JSON Lines (one `post` object per line) from files, or from
standard input when there are none or the name is "-", and submits them with
a window of posts in flight. Prints one line per acknowledged post:

    <file>:<line> <stored|duplicate> <post_id>

Exit status: 0 when every post is acknowledged, 1 when the daemon refuses a
post (or --give-up expires), 2 on unreadable input.

    relais_submit.py --state-dir /var/lib/relais posts.jsonl
    my-producer | relais_submit.py --endpoint tcp://127.0.0.1:7400 --window 200
"""
import argparse
import json
import sys
import time
from dataclasses import dataclass

import zmq

MAX_INTERVAL = 8.0  # resend intervals double up to this cap (PROTOCOL.md)


@dataclass
class InFlight:
    where: str        # file:line, for messages
    frame: bytes      # the request exactly as sent; a resend repeats it
    interval: float   # how long to wait for the reply before resending
    deadline: float   # time.monotonic() at which to resend


def fail(status, message):
    print(f"relais_submit: {message}", file=sys.stderr)
    sys.exit(status)


def read_posts(paths):
    """Yield (where, post) lazily, one per non-blank input line."""
    for path in paths or ["-"]:
        name = "<stdin>" if path == "-" else path
        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")
        except OSError as e:
            fail(2, f"{name}: {e.strerror}")
        with stream:
            for number, raw in enumerate(stream, 1):
                where = f"{name}:{number}"
                try:
                    line = raw.decode("utf-8")
                    if line.strip():
                        yield where, json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    fail(2, f"{where}: not a JSON line: {e}")


def submit_frame(seq, post):
    """One `submit` request: a single frame holding one UTF-8 JSON object."""
    request = {"v": 1, "type": "submit", "seq": seq, "post": post}
    return json.dumps(request, ensure_ascii=False).encode("utf-8")


def settle(frame, in_flight, counts):
    """Handle one reply: an ack ends a post's journey, a nack may end the run."""
    try:
        reply = json.loads(frame)
        kind, seq = reply.get("type"), reply.get("seq")
    except (ValueError, AttributeError):
        print("relais_submit: ignoring a reply that is not a JSON object", file=sys.stderr)
        return
    if kind == "nack" and seq is None:  # the daemon could not read a request
        fail(1, f"a request was refused ({reply.get('code')}): {reply.get('message')}")
    p = in_flight.get(seq)
    if p is None:
        return  # a late reply to a copy of a post already settled (or a pong)
    if kind == "ack":
        del in_flight[seq]
        status = reply.get("status")
        counts[status] = counts.get(status, 0) + 1
        print(f"{p.where} {status} {reply.get('post_id')}", flush=True)
    elif kind == "nack" and reply.get("retryable"):
        p.deadline = time.monotonic() + p.interval  # resend later, as on a timeout
    elif kind == "nack":
        field = reply.get("field")
        fail(1, f"{p.where}: post refused ({reply.get('code')})"
                f"{f' in field {field}' if field else ''}: {reply.get('message')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = ap.add_mutually_exclusive_group()
    target.add_argument("--endpoint", default="ipc:///var/lib/relais/ingest.sock",
                       help="relaisd's ingest endpoint (default: %(default)s)")
    target.add_argument("--state-dir", metavar="DIR",
                       help="relaisd's state directory: ipc://DIR/ingest.sock")
    ap.add_argument("--window", type=int, default=100,
                    help="most posts in flight at once (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=1.0,
                    help="seconds to wait for a reply before the first resend; "
                         "later resends wait twice as long, up to 8 s (default: %(default)s)")
    ap.add_argument("--give-up", type=float, default=0, metavar="SECONDS",
                    help="fail after this long without every ack (default: never)")
    ap.add_argument("files", nargs="*", help='JSON Lines files; "-" or none: standard input')
    args = ap.parse_args()
    if args.window < 1 or args.timeout <= 0:
        ap.error("--window must be at least 1 and --timeout positive")
    endpoint = f"ipc://{args.state_dir}/ingest.sock" if args.state_dir else args.endpoint

    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)  # on exit, drop what is unsent: it was not acked anyway
    sock.connect(endpoint)

    posts = read_posts(args.files)
    in_flight = {}  # seq -> InFlight; a post leaves it only on its ack
    next_seq, more_input = 1, True
    counts = {"stored": 0, "duplicate": 0}
    started = time.monotonic()

    while more_input or in_flight:
        # Fill the window; read no more input while it is full.
        while more_input and len(in_flight) < args.window:
            item = next(posts, None)
            if item is None:
                more_input = False
                break
            where, post = item
            try:
                frame = submit_frame(next_seq, post)
            except UnicodeEncodeError as e:  # e.g. a lone surrogate escape
                fail(2, f"{where}: the post is not valid UTF-8: {e}")
            now = time.monotonic()
            in_flight[next_seq] = InFlight(where, frame, args.timeout, now + args.timeout)
            sock.send(frame)
            next_seq += 1
        if not in_flight:
            break

        now = time.monotonic()
        if args.give_up and now - started > args.give_up:
            fail(1, f"gave up after {args.give_up:g} s: {len(in_flight)} posts not acknowledged "
                    f"(is relaisd listening on {endpoint}?)")
        wait = min(p.deadline for p in in_flight.values()) - now
        if sock.poll(max(0, int(wait * 1000) + 1)):
            settle(sock.recv(), in_flight, counts)

        # Resend, with the same seq and frame, every post whose reply is late.
        now = time.monotonic()
        for p in in_flight.values():
            if p.deadline <= now:
                sock.send(p.frame)
                p.interval = min(p.interval * 2, MAX_INTERVAL)
                p.deadline = now + p.interval

    total = sum(counts.values())
    print(f"relais_submit: {total} posts acknowledged: {counts['stored']} stored, "
          f"{counts['duplicate']} duplicate", file=sys.stderr)


if __name__ == "__main__":
    main()
