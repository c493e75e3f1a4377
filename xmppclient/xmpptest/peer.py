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
#             {"cmd": "send", ..., "receipt": true, "markable": true}  also asks for a XEP-0184
#                                                              receipt / XEP-0333 markers
#             {"cmd": "send", ..., "oob": url}                shares a file (XEP-0066 <x><url/>)
#             {"cmd": "upload_file", "to", "path", "service", "content_type", "filename"?}
#                                                              uploads through XEP-0363 (slot by IQ,
#                                                              HTTP PUT) and shares the file as
#                                                              Conversations does (body == OOB URL);
#                                                              emits uploaded {url}
#             {"cmd": "correct", "to", "ref", "body", "id"?}   XEP-0308 correction of message ref
#             {"cmd": "retract", "to", "ref", "id"?}          XEP-0424 retraction of message ref
#             {"cmd": "retract_legacy", "to", "ref", "id"?}   the same in the older form (XEP-0424
#                                                             before 0.4: XEP-0422 apply-to)
#             {"cmd": "receipt", "to", "ref"}                 XEP-0184 <received id=ref/>
#             {"cmd": "marker", "to", "ref", "marker"?}       XEP-0333 marker (default displayed)
#             {"cmd": "quit"}
#             each may carry "seq"; it is echoed by {"event": "ok", "seq"} once done (for the
#             commands that wait on the server, once it answered; a refusal gives
#             {"event": "error", "seq", "error"}).
#   events:   ready {jid} | message {from, to, id, type, body, origin_id, replace, retract,
#             receipt_request, receipt_for, markable, marker, marker_for, stanza_id, stamp, oob}
#             (type "error" for bounces; the extension fields are "" / false when absent) |
#             presence {from, type, show, status, nick} | roster {roster: {jid: {name,
#             subscription, ask, groups}}} | avatar {from, id, data} | ok {seq, cmd} |
#             error {error, seq?} | disconnected {}
import asyncio
import base64
import json
import logging
import os
import sys
import urllib.request
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS_RECEIPTS = "urn:xmpp:receipts"
NS_MARKERS = "urn:xmpp:chat-markers:0"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_FALLBACK = "urn:xmpp:fallback:0"
NS_FASTEN = "urn:xmpp:fasten:0"
NS_RETRACT_LEGACY = "urn:xmpp:message-retract:0"
NS_HINTS = "urn:xmpp:hints"
NS_SID = "urn:xmpp:sid:0"
NS_DELAY = "urn:xmpp:delay"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"


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
        # slixmpp's "message" event only fires for messages with a body; receipts, markers and
        # chat states come without one.
        self.register_handler(Callback("bodyless message", MatchXPath("{jabber:client}message"),
                                       self.on_any_message))
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
        x = msg.xml

        def attr(ns, name, key="id"):
            el = x.find("{%s}%s" % (ns, name))
            return "" if el is None else el.get(key, "")

        chat_state = ""
        for el in x:
            if el.tag.startswith("{%s}" % NS_CHATSTATES):
                chat_state = el.tag.split("}", 1)[1]
        marker, marker_for = "", ""
        for name in ("displayed", "received", "acknowledged"):
            el = x.find("{%s}%s" % (NS_MARKERS, name))
            if el is not None:
                marker, marker_for = name, el.get("id", "")
                break
        emit("message", **{"from": str(msg["from"]), "to": str(msg["to"]), "id": msg["id"],
                           "type": msg["type"], "body": msg["body"],
                           "origin_id": attr(NS_SID, "origin-id"),
                           "stanza_id": attr(NS_SID, "stanza-id"),
                           "replace": attr(NS_CORRECT, "replace"),
                           "retract": attr(NS_RETRACT, "retract"),
                           "receipt_request": x.find("{%s}request" % NS_RECEIPTS) is not None,
                           "receipt_for": attr(NS_RECEIPTS, "received"),
                           "markable": x.find("{%s}markable" % NS_MARKERS) is not None,
                           "marker": marker, "marker_for": marker_for,
                           "stamp": attr(NS_DELAY, "delay", "stamp"),
                           "oob": x.findtext("{jabber:x:oob}x/{jabber:x:oob}url", ""),
                           "chat_state": chat_state})

    def on_any_message(self, msg):
        x = msg.xml
        if x.find("{jabber:client}body") is None and msg["type"] != "error" \
                and x.find("{urn:xmpp:mam:2}result") is None:  # not archive query results
            self.on_message(msg)

    def chat(self, to, body="", mid=""):
        """A chat message with an id (given, or slixmpp's) echoed as XEP-0359 origin-id."""
        m = self.make_message(mto=to, mbody=body or None, mtype="chat")
        if mid:
            m["id"] = mid
        elif not m["id"]:
            m["id"] = self.new_id()
        m.xml.append(ET.Element("{%s}origin-id" % NS_SID, {"id": m["id"]}))
        return m

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

    async def upload_file(self, c):
        with open(c["path"], "rb") as f:
            data = f.read()
        name = c.get("filename") or os.path.basename(c["path"])
        iq = self.make_iq_get(ito=c["service"])
        req = ET.SubElement(iq.xml, "{urn:xmpp:http:upload:0}request",
                            {"filename": name, "size": str(len(data)), "content-type": c["content_type"]})
        del req
        resp = await iq.send(timeout=10)
        slot = resp.xml.find("{urn:xmpp:http:upload:0}slot")
        put = slot.find("{urn:xmpp:http:upload:0}put")
        get_url = slot.find("{urn:xmpp:http:upload:0}get").get("url")
        headers = {h.get("name"): h.text or "" for h in put.findall("{urn:xmpp:http:upload:0}header")}
        headers["Content-Type"] = c["content_type"]

        def do_put():
            r = urllib.request.Request(put.get("url"), data=data, method="PUT", headers=headers)
            with urllib.request.urlopen(r, timeout=20) as res:
                return res.status
        status = await asyncio.get_event_loop().run_in_executor(None, do_put)
        if status not in (200, 201):
            raise RuntimeError("PUT answered %d" % status)
        m = self.make_message(mto=c["to"], mbody=get_url, mtype="chat")
        x = ET.SubElement(m.xml, "{jabber:x:oob}x")
        ET.SubElement(x, "{jabber:x:oob}url").text = get_url
        m.send()
        emit("uploaded", url=get_url)

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
            elif cmd == "upload_file":
                await self.upload_file(c)
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
        if cmd in ("roster_add", "roster_remove", "get_roster", "publish_avatar", "fetch_avatar", "upload_file"):
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
            if c.get("receipt"):
                if not m["id"]:
                    m["id"] = self.new_id()
                m.xml.append(ET.Element("{%s}request" % NS_RECEIPTS))
            if c.get("markable"):
                m.xml.append(ET.Element("{%s}markable" % NS_MARKERS))
            if c.get("oob"):
                x = ET.SubElement(m.xml, "{jabber:x:oob}x")
                ET.SubElement(x, "{jabber:x:oob}url").text = c["oob"]
            m.send()
        elif cmd == "correct":
            m = self.chat(c["to"], c["body"], c.get("id", ""))
            m.xml.append(ET.Element("{%s}replace" % NS_CORRECT, {"id": c["ref"]}))
            m.send()
        elif cmd == "retract":
            m = self.chat(c["to"], "This person attempted to retract a previous message.", c.get("id", ""))
            m.xml.append(ET.Element("{%s}retract" % NS_RETRACT, {"id": c["ref"]}))
            m.xml.append(ET.Element("{%s}fallback" % NS_FALLBACK, {"for": NS_RETRACT}))
            m.xml.append(ET.Element("{%s}store" % NS_HINTS))
            m.send()
        elif cmd == "retract_legacy":
            m = self.chat(c["to"], "This person attempted to retract a previous message, but it's unsupported by your client.", c.get("id", ""))
            fasten = ET.SubElement(m.xml, "{%s}apply-to" % NS_FASTEN, {"id": c["ref"]})
            ET.SubElement(fasten, "{%s}retract" % NS_RETRACT_LEGACY)
            m.xml.append(ET.Element("{%s}fallback" % NS_FALLBACK))
            m.xml.append(ET.Element("{%s}store" % NS_HINTS))
            m.send()
        elif cmd == "receipt":
            m = self.make_message(mto=c["to"], mtype="chat")
            m["id"] = self.new_id()
            m.xml.append(ET.Element("{%s}received" % NS_RECEIPTS, {"id": c["ref"]}))
            m.send()
        elif cmd == "marker":
            m = self.make_message(mto=c["to"], mtype="chat")
            m["id"] = self.new_id()
            m.xml.append(ET.Element("{%s}%s" % (NS_MARKERS, c.get("marker") or "displayed"), {"id": c["ref"]}))
            m.xml.append(ET.Element("{%s}store" % NS_HINTS))
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
