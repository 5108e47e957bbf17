#!/usr/bin/env bash
# Installs the .deb with apt on this machine, checks what it set up, runs the
# installed agent as its unit would (run_installed_agent.py; no systemd
# needed), reinstalls over an edited conffile, removes, purges, and checks
# that purge leaves nothing behind. The package is purged on any exit.
#   install_test.sh PACKAGE_DIR
# Needs root (or passwordless sudo); otherwise exits 77 (ctest: skipped).
set -euo pipefail
packages=$1
here=$(cd "$(dirname "$0")" && pwd)
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
expect() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "SKIP: installing a package needs root or passwordless sudo"
  exit 77
fi
shopt -s nullglob
debs=("$packages"/hostpulse_*.deb)
[[ ${#debs[@]} -eq 1 ]] || { echo "FAIL one .deb expected in $packages (run packaging.build first)"; exit 1; }
deb=$(realpath "${debs[0]}")
if dpkg-query -W -f='${db:Status-Status}' hostpulse 2>/dev/null | grep -qv '^not-installed$'; then
  echo "SKIP: hostpulse is already installed (or its config is left) on this machine; not touching it"
  exit 77
fi
if getent passwd hostpulse >/dev/null || getent group hostpulse >/dev/null; then
  echo "SKIP: a hostpulse user or group exists that this package did not create; not touching it"
  exit 77
fi

apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=120)
purge() {
  if dpkg-query -W -f='${db:Status-Status}' hostpulse 2>/dev/null | grep -qv '^not-installed$'; then
    "${apt[@]}" purge hostpulse >/dev/null 2>&1 || echo "cleanup: apt-get purge hostpulse failed"
  fi
}
trap purge EXIT

# Everything named after us outside the build tree, before and after. Not
# /var/cache/man: man-db's cat pages (made when systemd-analyze verify runs
# man on Documentation=) are man-db's to expire, as for every package.
footprint() {
  find /etc /usr /var /opt /srv -xdev \( -path /var/cache/apt -o -path /var/cache/man -o -path /var/log \) -prune \
    -o -name '*hostpulse*' -print 2>/dev/null | sort
}
before=$(footprint)
# Where systemd runs, postinst starts the real service on 127.0.0.1:9870:
# checked below, unless something else holds that port already.
systemd_running=0 port_was_free=0
[[ -d /run/systemd/system ]] && systemd_running=1
curl -s -o /dev/null --max-time 2 http://127.0.0.1:9870/ || port_was_free=1

started=$SECONDS
install_log=$("${apt[@]}" install "$deb" 2>&1) || { echo "$install_log"; echo "FAIL apt-get install $deb"; exit 1; }
echo "apt-get install: $((SECONDS - started)) s"
expect "maintainer scripts are silent without systemd" \
  bash -c '! grep -iE "hostpulse.*(error|warn|fail)|systemctl|System has not been booted|deb-systemd" <<<"$1"' _ "$install_log"

expect "installed: /usr/bin/hostpulse --version" bash -c '/usr/bin/hostpulse --version | grep -q "^hostpulse [0-9]"'
expect "system user hostpulse: system uid, no login shell, no home" bash -c '
  IFS=: read -r _ _ uid gid _ home shell < <(getent passwd hostpulse)
  [[ $uid -lt 1000 && $shell == /usr/sbin/nologin && $home == /nonexistent && ! -e /nonexistent ]] &&
  [[ $(getent group hostpulse | cut -d: -f3) == "$gid" ]]'
expect "the config and stock rules are registered conffiles" bash -c \
  '[[ $(dpkg-query -W -f="\${Conffiles}" hostpulse) == *"/etc/hostpulse/hostpulse.toml "*"/etc/hostpulse/rules.d/stock.toml "* ]]'
expect "the installed config is valid for the hostpulse user" \
  "${as_root[@]}" setpriv --reuid=hostpulse --regid=hostpulse --clear-groups \
  /usr/bin/hostpulse --config /etc/hostpulse/hostpulse.toml --check-config
expect "the packaged config binds 127.0.0.1" grep -qx 'listen = "127.0.0.1:9870"' /etc/hostpulse/hostpulse.toml
# Webhooks need the HTTP client plugin, /usr/lib/hostpulse/libhostpulse-webhook.so
# (found relative to /usr/bin/hostpulse); --check-config loads it as start-up would.
webhook_dir=$(mktemp -d /tmp/hostpulse-webhook-check.XXXXXX)
chmod 0755 "$webhook_dir"
printf '[[webhook]]\nurl = "http://127.0.0.1:9/hook"\n' >"$webhook_dir/webhook.toml"
chmod 0644 "$webhook_dir/webhook.toml"
expect "the installed agent loads its webhook plugin from /usr/lib/hostpulse" bash -c \
  '"$@" 2>&1 | grep -q "configuration OK"' _ "${as_root[@]}" \
  setpriv --reuid=hostpulse --regid=hostpulse --clear-groups env -u HOSTPULSE_WEBHOOK_PLUGIN \
  /usr/bin/hostpulse --config "$webhook_dir/webhook.toml" --check-config
expect "without the plugin, a webhook config is refused, naming the file" bash -c \
  '! out=$("$@" 2>&1) && grep -q "cannot load the webhook HTTP client plugin /nonexistent.so" <<<"$out"' _ \
  env HOSTPULSE_WEBHOOK_PLUGIN=/nonexistent.so /usr/bin/hostpulse --config "$webhook_dir/webhook.toml" --check-config
rm -rf "$webhook_dir"
expect "man pages installed: hostpulse(1), hostpulse.toml(5)" bash -c \
  'man -w 1 hostpulse >/dev/null && man -w 5 hostpulse.toml >/dev/null'
expect "the unit is enabled (deb-systemd-helper)" test -L /etc/systemd/system/multi-user.target.wants/hostpulse.service
verify_output=$(systemd-analyze verify /lib/systemd/system/hostpulse.service 2>&1) && verify_ok=1 || verify_ok=0
[[ -n $verify_output ]] && sed 's/^/  verify: /' <<<"$verify_output"
expect "systemd-analyze verify passes on the installed unit" test "$verify_ok" = 1 -a -z "$verify_output"

if ((systemd_running && port_was_free)); then
  service_ok=0
  for _ in $(seq 50); do
    if systemctl is-active --quiet hostpulse.service &&
       curl -sf -o /dev/null --max-time 2 http://127.0.0.1:9870/api/v1/health; then service_ok=1; break; fi
    sleep 0.2
  done
  expect "systemd: the sandboxed service is active and answers on 127.0.0.1:9870" test "$service_ok" = 1
  ((service_ok)) || { systemctl status hostpulse.service --no-pager || true; journalctl -u hostpulse.service -n 30 --no-pager || true; }
elif ((systemd_running)); then
  echo "note: 127.0.0.1:9870 was busy before the install; the real service is not checked"
else
  echo "note: systemd is not running here; the unit is checked by systemd-analyze, the agent run as the unit would below"
fi

started=$SECONDS
expect "the installed agent runs as its unit would (API, stream, sd_notify)" \
  "${as_root[@]}" /usr/bin/python3 "$here/run_installed_agent.py" /lib/systemd/system/hostpulse.service
echo "installed agent run: $((SECONDS - started)) s"

# Upgrade path (a reinstall runs the same maintainer scripts): an edited
# conffile is kept, the user creation is idempotent.
echo '# edited by install_test.sh' | "${as_root[@]}" tee -a /etc/hostpulse/hostpulse.toml >/dev/null
reinstall_log=$("${apt[@]}" install --reinstall "$deb" 2>&1) && reinstall_ok=1 || reinstall_ok=0
expect "reinstall succeeds (idempotent postinst)" test "$reinstall_ok" = 1
((reinstall_ok)) || echo "$reinstall_log"
expect "an edited conffile is kept on reinstall" grep -qx '# edited by install_test.sh' /etc/hostpulse/hostpulse.toml

# remove: the program goes, the configuration and the user stay.
remove_log=$("${apt[@]}" remove hostpulse 2>&1) || { echo "$remove_log"; fail "apt-get remove"; }
expect "remove: binary, plugin and unit gone" test ! -e /usr/bin/hostpulse -a ! -e /usr/lib/hostpulse \
  -a ! -e /lib/systemd/system/hostpulse.service
if ((systemd_running)); then
  expect "remove: the service is stopped" bash -c '! systemctl is-active --quiet hostpulse.service'
fi
expect "remove: configuration and user kept" bash -c 'test -f /etc/hostpulse/hostpulse.toml && getent passwd hostpulse >/dev/null'

# purge: nothing left, including files the admin added.
echo 'not-a-real-token-but-long-enough' | "${as_root[@]}" tee /etc/hostpulse/token >/dev/null
purge_log=$("${apt[@]}" purge hostpulse 2>&1) || { echo "$purge_log"; fail "apt-get purge"; }
expect "purge: dpkg forgets the package" bash -c \
  '! dpkg-query -W -f="\${db:Status-Status}" hostpulse 2>/dev/null | grep -qv "^not-installed$"'
expect "purge: /etc/hostpulse and /var/lib/hostpulse gone" test ! -e /etc/hostpulse -a ! -e /var/lib/hostpulse
expect "purge: user and group gone" bash -c '! getent passwd hostpulse && ! getent group hostpulse'
after=$(footprint)
expect "purge: no file named *hostpulse* left under /etc /usr /var /opt /srv" test "$before" = "$after"
[[ $before == "$after" ]] || diff <(echo "$before") <(echo "$after") | sed 's/^/  /'

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all install checks passed"
