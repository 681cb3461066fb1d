#!/usr/bin/python3
"""Registers one account with slixmpp (Debian python3-slixmpp 1.8) so that
`go run ./internal/bench` can compare it with onboard on the same server, in
the same run, through the same latency proxy.

Usage: slixmpp_register.py HOST PORT DOMAIN CAFILE USERNAME MODE TLS
  MODE: "register" (register only) or "login" (register, then SASL + bind on
        the same stream, as slixmpp does by default)
  TLS:  "starttls" or "direct"
The password is read from the environment variable ONBOARD_PASSWORD, never
from the command line. Prints one JSON object:
  {"ok": bool, "registered_s": float, "session_s": float, "error": str}
with times in seconds from just before connect() was called.

If the environment variable ONBOARD_BENCH_HOLD is "1", the script prints the
line {"event": "result"} at the moment of the result (the registration's
reply, or with MODE "login" the start of the session) and waits for a line
on standard input before it closes the connection, without letting slixmpp
send anything in between (its SASL <auth/> after a registration, the TLS
close_notify), so that the benchmark can read the proxy's round-trip count
at exactly that moment.
"""
import asyncio
import json
import logging
import os
import sys
import time

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout


def hold():
    """Blocks the event loop (nothing else is sent) until the benchmark has
    taken its count; see ONBOARD_BENCH_HOLD above."""
    if os.environ.get("ONBOARD_BENCH_HOLD") == "1":
        print(json.dumps({"event": "result"}), flush=True)
        sys.stdin.readline()


class Registrar(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mode):
        super().__init__(jid, password)
        self.mode = mode
        self.t0 = 0.0
        self.result = {"ok": False, "registered_s": None, "session_s": None, "error": ""}
        self.done = asyncio.Event()
        self.add_event_handler("register", self.on_register)
        self.add_event_handler("session_start", self.on_session)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("disconnected", lambda _: self.done.set())
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0066")
        self.register_plugin("xep_0077")

    async def on_register(self, form):
        resp = self.Iq()
        resp["type"] = "set"
        resp["register"]["username"] = self.boundjid.user
        resp["register"]["password"] = self.password
        try:
            await resp.send(timeout=30)
        except (IqError, IqTimeout) as e:
            self.result["error"] = "register: %s" % getattr(e, "iq", e)
            self.abort()
            return
        self.result["registered_s"] = time.monotonic() - self.t0
        if self.mode == "register":
            hold()
            self.result["ok"] = True
            self.abort()

    def on_session(self, _):
        self.result["session_s"] = time.monotonic() - self.t0
        hold()
        self.result["ok"] = self.result["registered_s"] is not None
        self.abort()

    def on_fail(self, _):
        self.result["error"] = "login failed"
        self.abort()


async def main():
    host, port, domain, cafile, user, mode, tls = sys.argv[1:8]
    password = os.environ.get("ONBOARD_PASSWORD", "")
    xmpp = Registrar("%s@%s" % (user, domain), password, mode)
    xmpp.ca_certs = cafile
    # slixmpp 1.8.3 queues every stanza sent before the session starts, the
    # registration IQs included, so its XEP-0077 plugin stalls; this flag
    # (used by slixmpp's own test suite) lets them out.
    xmpp._always_send_everything = True
    xmpp["xep_0077"].force_registration = False
    xmpp.t0 = time.monotonic()
    xmpp.connect((host, int(port)), use_ssl=(tls == "direct"), force_starttls=(tls != "direct"))
    try:
        await asyncio.wait_for(xmpp.done.wait(), 60)
    except asyncio.TimeoutError:
        xmpp.result["error"] = "timeout"
    print(json.dumps(xmpp.result))


if __name__ == "__main__":
    logging.basicConfig(level=getattr(logging, os.environ.get("SLIX_LOG", "CRITICAL")))
    asyncio.run(main())
