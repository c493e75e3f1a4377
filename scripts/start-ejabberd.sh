#!/usr/bin/env bash
# start-ejabberd.sh DIR PORT_BASE [DOMAIN]
# Starts an isolated ejabberd 23.01 (Debian) instance for tests and `make demo`: config, Erlang
# cookie (HOME=DIR), SQLite database, logs, pidfile and upload docroot all live in DIR; listeners
# are on loopback only; no epmd (the Erlang distribution port is fixed and bound to 127.0.0.1).
#   PORT_BASE     c2s (STARTTLS required)
#   PORT_BASE+1   HTTP: /upload (mod_http_upload, XEP-0363, service upload.DOMAIN)
#   PORT_BASE+9   Erlang distribution (DIR/ejabberdctl talks to the node there)
# Clients must trust DIR/certs/ca.crt (a test CA made on first start; kept on restarts).
# SASL offered: PLAIN, SCRAM-SHA-1 (and -PLUS). Passwords are stored as SCRAM hashes; PLAIN
# still works because ejabberd checks the plain password against the stored hash.
# Env (all optional):
#   STORAGE=sql|mnesia        sql = SQLite in DIR/spool (default; needs erlang-p1-sqlite3)
#   MAM=true|false            message archive (default true)
#   SMACKS_HIBERNATION=s      XEP-0198 resume_timeout (default 60)
#   MAX_ACK_QUEUE=n|infinity  XEP-0198 max_ack_queue: unacked stanzas before the stream is
#                             closed (default: ejabberd's, 5000)
#   ALLOW_REGISTRATION=true|false   in-band registration (XEP-0077) from loopback (default true)
#   LOG_LEVEL=debug|info|warning (default info)
#   START_TIMEOUT=s           (default 60)
#   FOREGROUND=1              exec the Erlang VM in the foreground instead of daemonizing and
#                             waiting for the port (the Go test harness uses this)
# Users: DIR/ejabberdctl register USER DOMAIN PASS   (about 1 s per call: it boots an Erlang node)
# Stop:  scripts/stop-ejabberd.sh DIR [--kill]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DIR PORT_BASE [DOMAIN]" >&2; exit 2; }
[ -x /usr/sbin/ejabberdctl ] || { echo "ejabberd is not installed (make deps)" >&2; exit 3; }
mkdir -p "$1"; DIR=$(cd "$1" && pwd)
PB=$2; DOMAIN=${3:-localhost}
HTTP=$((PB + 1)); DIST=$((PB + 9))
NODE="ejabberd$PB@localhost"
START_TIMEOUT=${START_TIMEOUT:-60}
STORAGE=${STORAGE:-sql}; MAM=${MAM:-true}
if [ "$STORAGE" = sql ]; then
  # ejabberd creates the schema from /usr/share/ejabberd/sql/lite.sql when the file is new
  SQL_CFG="sql_type: sqlite
sql_database: \"$DIR/spool/ejabberd.db\"
default_db: sql
new_sql_schema: false"
else
  SQL_CFG="default_db: mnesia"
fi
if [ "$MAM" = true ]; then
  MAM_CFG="  mod_mam:
    assume_mam_usage: true
    default: always"
else
  MAM_CFG="  # mod_mam disabled (MAM=false)"
fi
ACK_QUEUE_CFG=""; [ -n "${MAX_ACK_QUEUE:-}" ] && ACK_QUEUE_CFG=", max_ack_queue: $MAX_ACK_QUEUE"
REGISTER_ACCESS=register; [ "${ALLOW_REGISTRATION:-true}" = false ] && REGISTER_ACCESS=none_allowed
mkdir -p "$DIR/spool" "$DIR/logs" "$DIR/certs" "$DIR/upload"

if [ ! -s "$DIR/certs/server.pem" ]; then   # test CA + leaf certificate (ECDSA P-256: fast to make)
  (cd "$DIR/certs"
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
     -subj "/CN=Parley Test CA" -keyout ca.key -out ca.crt \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -subj "/CN=$DOMAIN" \
     -keyout server.key -out server.csr 2>/dev/null
   printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,DNS:*.%s,IP:127.0.0.1,IP:::1\n' \
     "$DOMAIN" "$DOMAIN" > server.ext
   openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
     -extfile server.ext -out server.crt 2>/dev/null
   cat server.crt ca.crt server.key > server.pem; chmod 600 server.pem server.key ca.key
   rm -f server.csr server.ext ca.srl)
fi

# Private copy of ejabberdctl: Debian's hard-codes INSTALLUSER=ejabberd and would 'su' as root.
# EXEC_CMD=as_exec (set for 'foreground' below) makes the script exec the VM, so the VM keeps
# this script's PID and its parent (the Go harness can then wait for it and kill it by PID).
# shellcheck disable=SC2016 # the $ in the sed expressions are literal, as in ejabberdctl
sed -e 's/^INSTALLUSER=ejabberd$/INSTALLUSER=/' \
    -e 's/^\( *\)as_current_user) "\$@" ;;$/\1as_current_user) "$@" ;;\n\1as_exec) exec "$@" ;;/' \
    -e 's/^\( *\)exec_erl "\$ERLANG_NODE" \$EJABBERD_OPTS -noinput$/\1EXEC_CMD=as_exec; exec_erl "$ERLANG_NODE" $EJABBERD_OPTS -noinput/' \
    /usr/sbin/ejabberdctl > "$DIR/ejabberdctl.real"
grep -q 'as_exec) exec' "$DIR/ejabberdctl.real" || { echo "could not patch ejabberdctl" >&2; exit 1; }
cat > "$DIR/ejabberdctl" <<EOF
#!/bin/sh
# wrapper: every ejabberdctl call for this instance uses DIR's config and cookie
export HOME="$DIR"
exec "$DIR/ejabberdctl.real" --config-dir "$DIR" --config "$DIR/ejabberd.yml" \\
  --ctl-config "$DIR/ejabberdctl.cfg" --logs "$DIR/logs" --spool "$DIR/spool" "\$@"
EOF
chmod +x "$DIR/ejabberdctl" "$DIR/ejabberdctl.real"
cp /etc/ejabberd/inetrc "$DIR/inetrc"

# INET_DIST_INTERFACE is left empty on purpose: ejabberdctl would boot an extra Erlang VM on
# every call just to parse it. The same setting goes straight into ERL_OPTIONS instead.
cat > "$DIR/ejabberdctl.cfg" <<EOF
ERLANG_NODE=$NODE
ERL_DIST_PORT=$DIST
ERL_EPMD_ADDRESS=127.0.0.1
EJABBERD_PID_PATH=$DIR/ejabberd.pid
EJABBERD_BYPASS_WARNINGS=true
CONTRIB_MODULES_PATH=$DIR/contrib
CONTRIB_MODULES_CONF_DIR=$DIR/contrib-conf
ERL_OPTIONS="-kernel inet_dist_use_interface {127,0,0,1} -env ERL_CRASH_DUMP_BYTES 0"
EOF

cat > "$DIR/ejabberd.yml" <<EOF
# generated by start-ejabberd.sh (isolated test instance); rewritten on every start
hosts: ["$DOMAIN"]
loglevel: ${LOG_LEVEL:-info}
log_rotate_count: 0
certfiles: ["$DIR/certs/server.pem"]   # leaf + CA chain + key
auth_password_format: scram
$SQL_CFG
disable_sasl_mechanisms: ["digest-md5", "X-OAUTH2"]
registration_timeout: infinity   # default 600 s between two registrations from one IP
listen:
  - port: $PB
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: c2s
    starttls_required: true
  - port: $HTTP
    ip: "127.0.0.1"
    module: ejabberd_http
    backlog: 1024
    request_handlers:
      /upload: mod_http_upload
# no ejabberd_s2s_in listener; outgoing s2s denied:
s2s_access: none_allowed
acl:
  local: {user_regexp: ""}
  loopback: {ip: ["127.0.0.0/8", "::1/128"]}
access_rules:
  local: {allow: local}
  c2s: {allow: all}
  register: {allow: all}
  trusted_network: {allow: loopback}
  none_allowed: {deny: all}
  muc_create: {allow: local}
  pubsub_createnode: {allow: local}
api_permissions:
  "console commands": {from: [ejabberd_ctl], who: all, what: "*"}
shaper_rules:
  max_user_sessions: 100
  max_user_offline_messages: 5000
modules:
  mod_adhoc: {}
  mod_admin_extra: {}
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_disco: {}
  mod_http_upload:
    hosts: ["upload.@HOST@"]
    put_url: "http://127.0.0.1:$HTTP/upload"
    docroot: "$DIR/upload"
    max_size: 10485760
    thumbnail: false
  mod_last: {}
$MAM_CFG
  mod_muc:
    hosts: ["conference.@HOST@"]
    access_create: muc_create
    default_room_options: {mam: true}
  mod_muc_admin: {}
  mod_offline: {access_max_user_messages: max_user_offline_messages}
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:
    access_createnode: pubsub_createnode
    plugins: ["flat", "pep"]
    force_node_config:
      "storage:bookmarks": {access_model: whitelist}
  mod_push: {}
  mod_register:
    ip_access: trusted_network
    access: $REGISTER_ACCESS
  mod_roster: {versioning: true}
  mod_stream_mgmt: {resend_on_timeout: if_offline, resume_timeout: ${SMACKS_HIBERNATION:-60}$ACK_QUEUE_CFG}
  mod_vcard: {search: false}
  mod_vcard_xupdate: {}
  mod_version: {show_os: false}
EOF

if [ -s "$DIR/ejabberd.pid" ] && kill -0 "$(cat "$DIR/ejabberd.pid")" 2>/dev/null; then
  echo "already running: pid $(cat "$DIR/ejabberd.pid")" >&2; exit 1
fi
rm -f "$DIR/ejabberd.pid"
if [ "${FOREGROUND:-}" = 1 ]; then
  exec "$DIR/ejabberdctl" foreground
fi
t0=$(date +%s%N)
setsid "$DIR/ejabberdctl" foreground > "$DIR/logs/console.log" 2>&1 < /dev/null &
echo $! > "$DIR/launcher.pid"
deadline=$(( $(date +%s) + START_TIMEOUT ))
until (exec 3<>"/dev/tcp/127.0.0.1/$PB") 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$(cat "$DIR/launcher.pid")" 2>/dev/null; then
    echo "ejabberd failed to open $PB; see $DIR/logs" >&2; tail -20 "$DIR/logs/console.log" >&2; exit 1
  fi
  sleep 0.05
done
t1=$(date +%s%N)
# ejabberd opens its listeners only after all modules have started, so an open
# c2s port means ready ('ejabberdctl started' would add ~2.5 s of Erlang start-up).
for _ in $(seq 1 100); do [ -s "$DIR/ejabberd.pid" ] && break; sleep 0.02; done
echo "READY c2s=127.0.0.1:$PB http=127.0.0.1:$HTTP domain=$DOMAIN node=$NODE ca=$DIR/certs/ca.crt startup_ms=$(( (t1-t0)/1000000 )) pid=$(cat "$DIR/ejabberd.pid" 2>/dev/null)"
