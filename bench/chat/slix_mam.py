# slix_mam.py: the slixmpp side of Parley's catch-up benchmark (bench/chat, run with
# /usr/bin/python3). It logs in once (trusting only the test CA), then on each "page" line
# pages through the account's own archive (XEP-0313) with slixmpp's xep_0313 plugin and
# XEP-0059 RSM pages of the size asked, oldest first, after the archive id given, as a client
# catching up would, and reports how many messages came and how long the paging took (from the
# first query sent until the iterator ends; login and start-up are not timed). The results are
# only counted, not stored. With --sm slixmpp enables XEP-0198 stream management (its xep_0198
# plugin), as Parley does; the server then keeps a copy of every result until it is acknowledged.
#
# stdin:  {"max": 250, "after": "ARCHIVE-ID"}  one paging run per line; "quit" or EOF ends
# stdout: {"ready": true, "slixmpp", "python"}, then per run {"count", "pages", "ms", "last"}
#         or {"error"}
import argparse
import asyncio
import json
import logging
import sys
import time

import slixmpp


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def page_all(xmpp, page_max, after):
    rsm = {"max": page_max}
    if after:
        rsm["after"] = after  # the first query; the iterator sets it for the next pages
    count, pages, last = 0, 0, ""
    t0 = time.perf_counter()
    async for page in xmpp["xep_0313"].retrieve(iterator=True, rsm=rsm):
        results = page["mam"]["results"]
        pages += 1
        count += len(results)
        if results:
            last = results[-1]["mam_result"]["id"]
        else:
            break
    ms = (time.perf_counter() - t0) * 1000
    return {"count": count, "pages": pages, "ms": ms, "last": last}


async def serve(a):
    loop = asyncio.get_running_loop()
    xmpp = slixmpp.ClientXMPP(a.jid, a.password)
    for plugin in ("xep_0030", "xep_0059", "xep_0297", "xep_0313"):
        xmpp.register_plugin(plugin)
    if a.sm:
        xmpp.register_plugin("xep_0198")
    xmpp.ca_certs = a.ca_file
    xmpp.whitespace_keepalive = False
    started = loop.create_future()
    xmpp.add_event_handler("session_start", lambda _e: started.done() or started.set_result(None))
    xmpp.add_event_handler("failed_auth", lambda _e: started.done() or started.set_exception(
        RuntimeError("authentication failed")))
    xmpp.connect(address=(a.host, a.port))
    await asyncio.wait_for(started, 30)
    xmpp.send_presence()

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit({"ready": True, "slixmpp": slixmpp.__version__, "python": sys.version.split()[0]})
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            break
        try:
            c = json.loads(line)
            emit(await page_all(xmpp, int(c.get("max", 250)), c.get("after", "")))
        except Exception as e:  # report and go on; the Go side decides
            emit({"error": "%s: %s" % (type(e).__name__, e)})
    xmpp.disconnect(wait=2.0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--sm", action="store_true", help="enable XEP-0198 stream management")
    a = p.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    asyncio.run(serve(a))


if __name__ == "__main__":
    main()
