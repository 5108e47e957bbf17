#!/usr/bin/env bash
# Sets up, builds and starts the agent in the foreground:
# dashboard and API on http://127.0.0.1:9870/ (Ctrl-C stops it).
# Extra arguments go to hostpulse, e.g. ./scripts/run.sh --interval 500
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
source scripts/ccache_env.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DHOSTPULSE_BUILD_TESTS=OFF -DHOSTPULSE_BUILD_BENCHMARKS=OFF \
  "${ccache_launcher[@]}" >/dev/null
cmake --build build/release --target hostpulse hostpulse-cli -j"$(nproc)"
echo "Starting hostpulse: open http://127.0.0.1:9870/ (Ctrl-C to stop)"
# The default config file and its stock alert rules, as the package installs them.
exec build/release/agent/hostpulse --config packaging/hostpulse.toml "$@"
