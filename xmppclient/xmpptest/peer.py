# peer.py: a scripted slixmpp XMPP client for parley's integration tests (embedded in the Go
# package xmpptest and run with /usr/bin/python3). Configuration comes as JSON in the
# environment variable XMPPTEST_PEER: {"jid", "password", "host", "port", "ca_file"}.
# Control: one JSON object per line on stdin, events one JSON object per line on stdout.
#   commands: {"cmd": "send", "to", "body", "id"?, "type"?}
#             {"cmd": "send_many", "to", "count", "prefix"}   bodies/ids prefix-000001 ...
#             {"cmd": "presence", "show"?, "status"?}
#             {"cmd": "raw", "xml"}                            slixmpp send_raw
#             {"cmd": "manual_subscriptions"}                  answer no subscription request by itself
#             {"cmd": "subscribe", "to", "status"?, "nick"?}   also approve / deny / unsubscribe {"to"}
#             {"cmd": "roster_add", "jid", "name"?, "groups"?} {"cmd": "roster_remove", "jid"}
#             {"cmd": "get_roster"}                            emits roster {roster}
#             {"cmd": "publish_avatar", "data", "type", "width", "height"}   XEP-0084, data base64
#             {"cmd": "fetch_avatar", "jid", "id"}             emits avatar {from, id, data}
#             {"cmd": "quit"}
#             each may carry "seq"; it is echoed by {"event": "ok", "seq"} once done (for the
#             commands that wait on the server, once it answered; a refusal gives
#             {"event": "error", "seq", "error"}).
#   events:   ready {jid} | message {from, to, id, type, body} (type "error" for bounces) |
#             presence {from, type, show, status, nick} | roster {roster: {jid: {name,
#             subscription, ask, groups}}} | avatar {from, id, data} | ok {seq, cmd} |
#             error {error, seq?} | disconnected {}
import asyncio
import base64
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
        for plugin in ("xep_0030", "xep_0060", "xep_0163", "xep_0084", "xep_0172"):
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message)
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
                            "show": pres["show"], "status": pres["status"],
                            "nick": pres["nick"]["nick"]})

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

    async def roster_items(self):
        iq = self.Iq()
        iq["type"] = "get"
        iq.enable("roster")  # no version: always the whole roster
        resp = await iq.send(timeout=10)
        items = {}
        for jid, item in resp["roster"]["items"].items():
            items[str(jid)] = {"name": item.get("name", ""), "subscription": item.get("subscription", ""),
                               "ask": item.get("ask", ""), "groups": list(item.get("groups", []))}
        return items

    async def run_async(self, c):
        cmd = c.get("cmd")
        try:
            if cmd == "roster_add":
                await self.update_roster(c["jid"], name=c.get("name", ""), groups=c.get("groups", []),
                                         timeout=10)
            elif cmd == "roster_remove":
                await self.del_roster_item(c["jid"])
            elif cmd == "get_roster":
                emit("roster", roster=await self.roster_items())
            elif cmd == "publish_avatar":
                data = base64.b64decode(c["data"])
                avatar = self.plugin["xep_0084"]
                await avatar.publish_avatar(data, timeout=10)
                await avatar.publish_avatar_metadata(items=[{
                    "id": avatar.generate_id(data), "type": c["type"], "bytes": len(data),
                    "width": str(c.get("width", "")), "height": str(c.get("height", ""))}], timeout=10)
            elif cmd == "fetch_avatar":
                resp = await self.plugin["xep_0084"].retrieve_avatar(c["jid"], c["id"], timeout=10)
                data = resp["pubsub"]["items"]["item"]["avatar_data"]["value"]
                emit("avatar", **{"from": c["jid"], "id": c["id"], "data": base64.b64encode(data).decode()})
        except Exception as e:
            emit("error", seq=c.get("seq"), error="%s: %r" % (cmd, e))
            return
        if "seq" in c:
            emit("ok", seq=c["seq"], cmd=cmd)

    def command(self, c):
        cmd = c.get("cmd")
        if cmd in ("roster_add", "roster_remove", "get_roster", "publish_avatar", "fetch_avatar"):
            asyncio.ensure_future(self.run_async(c))
            return
        if cmd == "manual_subscriptions":
            self.roster.auto_authorize = None  # neither accept nor refuse by itself
            self.roster.auto_subscribe = False
        elif cmd in ("subscribe", "approve", "deny", "unsubscribe"):
            ptype = {"subscribe": "subscribe", "approve": "subscribed", "deny": "unsubscribed",
                     "unsubscribe": "unsubscribe"}[cmd]
            self.make_presence(pto=slixmpp.JID(c["to"]).bare, ptype=ptype, pstatus=c.get("status") or None,
                               pnick=c.get("nick") or None).send()
        elif cmd == "send":
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
