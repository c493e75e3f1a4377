# slix_login.py: the slixmpp side of Parley's login benchmark (bench/login, run with
# /usr/bin/python3). Each login builds a fresh ClientXMPP (SCRAM-SHA-1, XEP-0198 like Parley,
# trusting only the test CA), then times connect() -> STARTTLS -> SASL -> bind -> SM enable ->
# session_start -> initial presence sent -> reply to an XEP-0199 ping sent after the presence
# (the server handles a stream in order, so the reply proves it processed the presence).
# All logins run in one process, so Python start-up and imports are not timed.
#
#   --serve: print {"ready": true, ...}; then one login per "login" line on stdin, one JSON line
#            each ({"ms", "setup_ms", "marks", "mechanism"}); "quit" or EOF ends.
#   --debug: slixmpp's debug log with timestamps on stderr (to see where the time goes).
#   default: one untimed warm-up login, then --n timed ones; prints one JSON document.
import argparse
import asyncio
import json
import logging
import sys
import time

import slixmpp

# Milestones recorded as milliseconds since the connect() call.
MARKS = {
    "connected": "tcp",          # TCP connection made, stream header sent
    "ssl_cert": "tls",           # STARTTLS handshake finished
    "auth_success": "sasl",      # SASL success
    "session_bind": "bind",      # resource bound
    "sm_enabled": "sm",          # <enabled/> received
    "session_start": "session",  # the application is told the session is up
}


async def login_once(a):
    """One full login; returns a result dict. Disconnects (untimed) before returning."""
    loop = asyncio.get_running_loop()
    s0 = time.perf_counter()
    xmpp = slixmpp.ClientXMPP(a.jid, a.password, sasl_mech="SCRAM-SHA-1")
    xmpp.register_plugin("xep_0198")  # stream management, as Parley enables it
    xmpp.register_plugin("xep_0199")  # ping (keepalive stays off)
    xmpp.ca_certs = a.ca_file
    xmpp.whitespace_keepalive = False
    setup_ms = (time.perf_counter() - s0) * 1000

    marks = {}
    started = loop.create_future()
    gone = loop.create_future()
    t0 = 0.0

    def mark(name):
        def handler(_event=None):
            marks.setdefault(name, (time.perf_counter() - t0) * 1000)
            if name == "session" and not started.done():
                started.set_result(None)
        return handler

    def fail(why):
        def handler(event=None):
            if not started.done():
                started.set_exception(RuntimeError("%s: %s" % (why, event)))
        return handler

    for event, name in MARKS.items():
        xmpp.add_event_handler(event, mark(name))
    xmpp.add_event_handler("failed_auth", fail("authentication failed"))
    xmpp.add_event_handler("connection_failed", fail("connection failed"))
    xmpp.add_event_handler("disconnected", lambda _e=None: gone.done() or gone.set_result(None))

    t0 = time.perf_counter()
    xmpp.connect(address=(a.host, a.port))
    try:
        await asyncio.wait_for(started, a.timeout)
        xmpp.send_presence()
        await xmpp["xep_0199"].send_ping(xmpp.boundjid.domain, timeout=a.timeout)
        total_ms = (time.perf_counter() - t0) * 1000
        marks["ping"] = total_ms
        mech = getattr(xmpp["feature_mechanisms"], "mech", None)
        mech = getattr(mech, "name", None) or "unknown"
    finally:
        xmpp.disconnect(wait=2.0)
        try:
            await asyncio.wait_for(gone, 5)
        except asyncio.TimeoutError:
            xmpp.abort()
    return {"ms": total_ms, "setup_ms": setup_ms, "marks": marks, "mechanism": mech}


def info():
    return {"slixmpp": slixmpp.__version__, "python": sys.version.split()[0]}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def serve(a):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit(dict(ready=True, **info()))
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            return
        if line != "login":
            emit({"error": "unknown command %r" % line})
            continue
        try:
            emit(await login_once(a))
        except Exception as e:  # report and go on; the Go side decides
            emit({"error": "%s: %s" % (type(e).__name__, e)})


async def batch(a):
    await login_once(a)  # warm-up
    runs = [await login_once(a) for _ in range(a.n)]
    ms = sorted(r["ms"] for r in runs)
    emit(dict(info(), n=a.n, median_ms=ms[len(ms) // 2], min_ms=ms[0], runs=runs))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--n", type=int, default=30)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--serve", action="store_true")
    p.add_argument("--debug", action="store_true", help="slixmpp debug log (every SEND/RECV) on stderr")
    a = p.parse_args()
    logging.basicConfig(level=logging.DEBUG if a.debug else logging.ERROR, stream=sys.stderr,
                        format="%(relativeCreated)10.1f ms %(name)s: %(message)s")
    asyncio.run(serve(a) if a.serve else batch(a))


if __name__ == "__main__":
    main()
