#!/usr/bin/env bash
# The nginx example of docs/deployment.md, tested: packaging/nginx/hostpulse.conf
# (the file the doc shows) with its host name, certificate and ports rewritten,
# in front of a real agent with a token and allowed_origins. Checks HTTPS REST
# (curl --cacert) and a WSS stream through the proxy (agent_probe.py), on
# loopback only, every process killed by its PID.
#   nginx_proxy_test.sh HOSTPULSE_BINARY SOURCE_DIR
set -euo pipefail
binary=$1 source=$2
here=$(cd "$(dirname "$0")" && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
[[ -x $NGINX ]] || { echo "FAIL nginx is missing (scripts/setup.sh installs it)"; exit 1; }
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

tmp=$(mktemp -d /tmp/hostpulse-nginx-XXXXXX)
agent_pid="" nginx_pid=""
cleanup() {
  for pid in $nginx_pid $agent_pid; do
    kill "$pid" 2>/dev/null && { timeout 5 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null; }
  done
  if ((failures)) || [[ ${keep_logs:-0} == 1 ]]; then
    echo "--- agent log"; cat "$tmp/agent.log" 2>/dev/null || true
    echo "--- nginx error log"; cat "$tmp/error.log" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A certificate for "localhost", trusted only through --cacert.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
token=$(openssl rand -hex 24)
printf '%s\n' "$token" >"$tmp/token" && chmod 0600 "$tmp/token"
cat >"$tmp/hostpulse.toml" <<TOML
listen = "127.0.0.1:0"
interval = "200ms"
token_file = "$tmp/token"
allowed_origins = ["https://ops.example.com"]
TOML
"$binary" --config "$tmp/hostpulse.toml" >"$tmp/agent.log" 2>&1 &
agent_pid=$!
agent_port=""
for _ in $(seq 100); do
  agent_port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/agent.log" | head -1)
  [[ -n $agent_port ]] && break
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $agent_port ]] || { fail "the agent did not start"; exit 1; }

# The documented file, with the placeholders of a real deployment replaced.
proxy_port=$(free_port)
sed -e "s|listen 443 ssl;|listen 127.0.0.1:$proxy_port ssl;|" \
    -e '/listen \[::\]:443 ssl;/d' \
    -e "s|server_name metrics.example.com;|server_name localhost;|" \
    -e "s|/etc/ssl/certs/metrics.example.com.pem|$tmp/cert.pem|" \
    -e "s|/etc/ssl/private/metrics.example.com.key|$tmp/key.pem|" \
    -e "s|server 127.0.0.1:9870;|server 127.0.0.1:$agent_port;|" \
    "$source/packaging/nginx/hostpulse.conf" >"$tmp/hostpulse.conf"
for wanted in "listen 127.0.0.1:$proxy_port ssl;" "server 127.0.0.1:$agent_port;" "$tmp/cert.pem" "$tmp/key.pem" \
              "proxy_set_header Upgrade \$http_upgrade;"; do
  grep -qF "$wanted" "$tmp/hostpulse.conf" || { fail "templating packaging/nginx/hostpulse.conf: no '$wanted'"; exit 1; }
done
if grep -v '^ *#' "$tmp/hostpulse.conf" | grep -q '443\|example.com\|\[::\]'; then
  fail "templating left a placeholder: $(grep -n '443\|example.com\|\[::\]' "$tmp/hostpulse.conf")"; exit 1
fi
# A minimal main config around it: foreground, one process, everything in $tmp.
cat >"$tmp/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log info;
events { worker_connections 64; }
http {
    access_log $tmp/access.log;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/hostpulse.conf;
}
NGINX
"$NGINX" -t -q -e "$tmp/error.log" -p "$tmp" -c "$tmp/nginx.conf" && pass "nginx -t accepts the documented config" ||
  { fail "nginx -t rejects the documented config"; exit 1; }
"$NGINX" -e "$tmp/error.log" -p "$tmp" -c "$tmp/nginx.conf" &
nginx_pid=$!
base="https://localhost:$proxy_port"
for _ in $(seq 100); do
  curl -s -o /dev/null --cacert "$tmp/cert.pem" "$base/" && break
  kill -0 "$nginx_pid" 2>/dev/null || break
  sleep 0.1
done

status=$(curl -s -o "$tmp/health.json" -w '%{http_code}' --max-time 10 --cacert "$tmp/cert.pem" \
  -H "Authorization: Bearer $token" "$base/api/v1/health" || true)
[[ $status == 200 ]] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/health.json" &&
  pass "curl --cacert: HTTPS /api/v1/health with the token is 200 JSON" || fail "HTTPS /api/v1/health: status $status"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$tmp/cert.pem" "$base/api/v1/health" || true)
[[ $status == 401 ]] && pass "curl: without the token 401 through the proxy" || fail "no token: status $status"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/api/v1/health" || true)
[[ $status == 000 ]] && pass "curl without --cacert refuses the self-signed certificate" || fail "no cacert: status $status"

echo "-- WSS through the proxy, Origin = the proxy's own origin"
/usr/bin/python3 "$here/agent_probe.py" "$base" --token "$token" --cacert "$tmp/cert.pem" \
  --origin "$base" --foreign-origin https://evil.example && pass "probe: own origin" || fail "probe: own origin"
echo "-- WSS through the proxy, Origin listed in allowed_origins"
/usr/bin/python3 "$here/agent_probe.py" "$base" --token "$token" --cacert "$tmp/cert.pem" \
  --origin https://ops.example.com && pass "probe: allowed origin" || fail "probe: allowed origin"

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all nginx proxy checks passed"
