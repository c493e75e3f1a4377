# peer.py: a scripted slixmpp XMPP client for parley's integration tests (embedded in the Go
# package xmpptest and run with /usr/bin/python3). Configuration comes as JSON in the
# environment variable XMPPTEST_PEER: {"jid", "password", "host", "port", "ca_file"}.
# Control: one JSON object per line on stdin, events one JSON object per line on stdout.
#   commands: {"cmd": "send", "to", "body", "id"?, "type"?}
#             {"cmd": "send_many", "to", "count", "prefix"}   bodies/ids prefix-000001 ...
#             {"cmd": "presence", "show"?, "status"?}
#             {"cmd": "raw", "xml"}                            slixmpp send_raw
#             {"cmd": "quit"}
#             each may carry "seq"; it is echoed by {"event": "ok", "seq"} once done.
#   events:   ready {jid} | message {from, to, id, type, body} | presence {from, type, show,
#             status} | ok {seq, cmd} | error {error} | disconnected {}
import asyncio
import json
import logging
import os
import sys

import slixmpp


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.quitting = False
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("disconnected", self.on_disconnected)

    async def on_start(self, _event):
        self.send_presence()
        try:
            await self.get_roster(timeout=10)
        except Exception as e:  # the roster is not essential for a test peer
            emit("error", error="roster: %r" % (e,))
        emit("ready", jid=str(self.boundjid))

    def on_message(self, msg):
        emit("message", **{"from": str(msg["from"]), "to": str(msg["to"]), "id": msg["id"],
                           "type": msg["type"], "body": msg["body"]})

    def on_presence(self, pres):
        emit("presence", **{"from": str(pres["from"]), "type": pres["type"],
                            "show": pres["show"], "status": pres["status"]})

    def on_failed_auth(self, _event):
        emit("error", error="authentication failed")
        self.quitting = True
        self.disconnect()

    def on_connection_failed(self, err):
        emit("error", error="connection failed: %s" % (err,))
        self.quitting = True
        self.disconnect()

    def on_disconnected(self, _event):
        emit("disconnected")
        asyncio.get_event_loop().stop()

    def command(self, c):
        cmd = c.get("cmd")
        if cmd == "send":
            m = self.make_message(mto=c["to"], mbody=c.get("body", ""), mtype=c.get("type", "chat"))
            if c.get("id"):
                m["id"] = c["id"]
            m.send()
        elif cmd == "send_many":
            prefix = c.get("prefix", "msg")
            for i in range(1, int(c["count"]) + 1):
                text = "%s-%06d" % (prefix, i)
                m = self.make_message(mto=c["to"], mbody=text, mtype="chat")
                m["id"] = text
                m.send()
        elif cmd == "presence":
            self.send_presence(pshow=c.get("show") or None, pstatus=c.get("status") or None)
        elif cmd == "raw":
            self.send_raw(c["xml"])
        elif cmd == "quit":
            self.quitting = True
            self.disconnect()
        else:
            emit("error", error="unknown command %r" % (cmd,))
            return
        if "seq" in c:
            emit("ok", seq=c["seq"], cmd=cmd)


def main():
    cfg = json.loads(os.environ["XMPPTEST_PEER"])
    level = logging.DEBUG if os.environ.get("XMPPTEST_SLIX_DEBUG") else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    peer = Peer(cfg["jid"], cfg["password"])
    peer.ca_certs = cfg["ca_file"]  # trust only the test server's CA
    peer.connect(address=(cfg["host"], int(cfg["port"])))

    buf = b""
    fd = sys.stdin.fileno()

    def on_stdin():
        nonlocal buf
        data = os.read(fd, 65536)
        if not data:  # the test binary went away
            loop.remove_reader(fd)
            peer.quitting = True
            peer.disconnect()
            loop.call_later(2, loop.stop)
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                peer.command(json.loads(line))
            except Exception as e:
                emit("error", error="command %r: %r" % (line[:200], e))

    loop.add_reader(fd, on_stdin)
    loop.run_forever()


if __name__ == "__main__":
    main()
