#!/usr/bin/env bash
# The agent links no HTTP client or TLS library: cpp-httplib, OpenSSL and
# brotli belong to the webhook plugin, which the agent dlopen()s only when
# webhooks are configured (agent/CMakeLists.txt). zlib is the exception: it
# gzips /metrics, which every Prometheus scrape asks for (about 100 KiB of
# shared code, against the 3+ MiB the plugin's libraries cost).
#   http_client_linkage_test.sh AGENT_BINARY WEBHOOK_PLUGIN
# Reads the dynamic sections with readelf -d (what ldd follows), so it checks
# the files themselves, not what this machine would resolve them to.
set -euo pipefail
agent=$1 plugin=$2
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p'; }
agent_needed=$(needed "$agent")
plugin_needed=$(needed "$plugin")
echo "agent NEEDED: $(tr '\n' ' ' <<<"$agent_needed")"
echo "plugin NEEDED: $(tr '\n' ' ' <<<"$plugin_needed")"

[[ -n $agent_needed ]] && pass "readelf lists the agent's NEEDED entries" || fail "no NEEDED entries read from $agent"
for library in libcpp-httplib libssl libcrypto libbrotli; do
  if grep -q "^$library\.so" <<<"$agent_needed"; then
    fail "the agent needs $library"
  else
    pass "the agent does not need $library"
  fi
done
# The same check sees the library where it is linked: the plugin.
grep -q '^libcpp-httplib\.so' <<<"$plugin_needed" && pass "the plugin needs libcpp-httplib" ||
  fail "the plugin does not need libcpp-httplib (is the check reading the right section?)"
# A private plugin: no SONAME; its only exported functions are the C ABI.
readelf -d "$plugin" | grep -q '(SONAME)' && fail "the plugin has a SONAME" || pass "the plugin has no SONAME"
exported=$(nm -D --defined-only "$plugin" | awk '$2 == "T" {print $3}' | grep -v -x -e _init -e _fini | sort)
expected=$(printf '%s\n' hostpulse_webhook_abi_version hostpulse_webhook_client_create hostpulse_webhook_client_free \
  hostpulse_webhook_client_send hostpulse_webhook_client_stop)
if [[ $exported == "$expected" ]]; then
  pass "the plugin exports exactly the hostpulse_webhook_* functions"
else
  fail "the plugin exports other functions: $(tr '\n' ' ' <<<"$exported")"
fi

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all linkage checks passed"
