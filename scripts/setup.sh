#!/usr/bin/env bash
# Installs every build and test dependency of hostpulse from Debian packages.
# Idempotent: packages already present are left alone; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  ccache                       # compiler cache: CI and repeated builds recompile only what changed
  clang libclang-rt-14-dev     # libFuzzer targets (-fsanitize=fuzzer needs the runtime, only "recommended" by clang)
  libboost-dev                 # Boost.Beast/Asio: the HTTP + WebSocket server
  libcpp-httplib-dev           # HTTP client (webhooks, CLI, tests)
  nlohmann-json3-dev           # JSON and MessagePack
  libfmt-dev libspdlog-dev     # formatting, logging
  libcli11-dev                 # command-line flags
  libtoml11-dev                # config file
  zlib1g-dev                   # gzip of /metrics scrapes
  libgtest-dev libgmock-dev    # unit tests
  libbenchmark-dev             # benchmarks
  python3 python3-websockets python3-msgpack  # third-party stream clients in tests
  curl procps                  # used by the README's smoke checks and tests
  chromium                     # the dashboard's browser tests (driven by npm playwright-core; never downloads a browser)
  lintian rpm dpkg-dev file    # packaging tests: .deb checks, rpmbuild, dpkg-shlibdeps (CPack)
  systemd man-db nginx openssl # systemd-analyze on the unit, man pages, the TLS reverse-proxy example
  prometheus                   # /metrics tests: a real Prometheus scrapes the agent; promtool lints the exposition
  prometheus-node-exporter     # /metrics tests compare against node_exporter's output in the same run
  prometheus-alertmanager      # alert notification tests: a real Alertmanager receives the agent's alerts
)

if [[ $(id -u) -eq 0 ]]; then
  sudo_cmd=()
else
  command -v sudo >/dev/null || { echo "setup: not root and sudo is missing; install as root: ${packages[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

# Node.js runs the front-end tests; the machine may have it from another source.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# npm packages pinned in package-lock.json (installed again only when the lock changes).
cd "$(dirname "$0")/.."
stamp=node_modules/.hostpulse-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
else
  echo "setup: npm packages up to date"
fi
