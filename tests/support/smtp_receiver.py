#!/usr/bin/python3
"""An SMTP server for tests: a real aiosmtpd server on loopback that records
every message it gets, decoded with Python's email package, and answers
with the replies it is told to.

    smtp_receiver.py --port-file FILE --out FILE [options]

  --port-file FILE   once listening, the port is written there (written
                     whole, then renamed into place)
  --out FILE         one JSON line per message is appended there, BEFORE
                     the reply to its DATA is sent: when the client has its
                     reply, the line is in the file
  --host HOST        address to listen on (default 127.0.0.1; port 0,
                     chosen by the system)
  --fail-first N     refuse the first N messages, at the end of DATA
  --fail-code CODE   the reply to a refused message: 451 (temporary, the
                     default) or 550 (permanent), or any 4xx or 5xx

Each line of --out is a JSON object:
  n                the message's number, from 1
  mail_from        the envelope sender (MAIL FROM)
  rcpt_tos         the envelope recipients (RCPT TO), a list
  reply            the reply sent to the DATA, e.g. "250 OK"
  code             its code: 250, 451, 550, ...
  raw              the message as received, as text (CRLF line breaks)
  headers          the message's headers, RFC 2047 decoded: {name: value}
                   (the last one of a name that appears twice)
  subject          the decoded Subject
  body             the decoded text of the body (transfer encoding and
                   charset undone, line breaks as "\n")
  content_type     e.g. "text/plain"
  charset          e.g. "utf-8"
  transfer_encoding  e.g. "quoted-printable"
  max_line_length  the longest line of `raw`, CRLF not counted
  defects          what the email package found wrong with the message

Needs Debian's python3-aiosmtpd: run it with /usr/bin/python3.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os

from aiosmtpd.smtp import SMTP


def parse_args():
    parser = argparse.ArgumentParser(description="An SMTP server for tests.")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-code", type=int, default=451)
    return parser.parse_args()


def describe(content):
    """What the email package makes of the raw message."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    headers = {name: str(value) for name, value in message.items()}
    defects = [type(d).__name__ for d in message.defects]
    for value in message.values():
        defects += [type(d).__name__ for d in getattr(value, "defects", ())]
    try:
        body = message.get_content().replace("\r\n", "\n")
    except (KeyError, LookupError, ValueError) as error:
        body = None
        defects.append("get_content: %s" % error)
    text = content.decode("utf-8", errors="replace")
    return {
        "raw": text,
        "headers": headers,
        "subject": str(message.get("Subject", "")),
        "body": body,
        "content_type": message.get_content_type(),
        "charset": message.get_content_charset(),
        "transfer_encoding": message.get("Content-Transfer-Encoding"),
        "max_line_length": max((len(line) for line in text.split("\r\n")), default=0),
        "defects": defects,
    }


class Recorder:
    def __init__(self, args):
        self.args = args
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        if self.count <= self.args.fail_first:
            code = self.args.fail_code
            reply = "%d %s" % (code, "Try again later" if code < 500 else "Refused")
        else:
            code, reply = 250, "250 OK"
        entry = {
            "n": self.count,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "reply": reply,
            "code": code,
        }
        entry.update(describe(envelope.original_content or envelope.content))
        with open(self.args.out, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            out.flush()
        return reply


async def serve(args):
    recorder = Recorder(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(recorder, hostname="relais-test"), args.host, 0)
    port = server.sockets[0].getsockname()[1]
    partial = args.port_file + ".partial"
    with open(partial, "w", encoding="ascii") as f:
        f.write(str(port))
    os.replace(partial, args.port_file)
    async with server:
        await server.serve_forever()


def main():
    args = parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
