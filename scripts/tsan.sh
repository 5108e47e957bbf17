#!/usr/bin/env bash
# Builds build/tsan with ThreadSanitizer (-DHOSTPULSE_TSAN=ON) and runs the
# tests that exercise threads: hostpulse_core_tests (sampler thread, webhook
# worker, stream service), the filesystems source's tests (its statvfs worker,
# abandoned and replaced when a call hangs) and the end-to-end tests that run the agent binary
# (its sampler and io threads, the webhook worker). Exits non-zero on a failed
# test or on any ThreadSanitizer report, printing where the reports are.
#
#   scripts/tsan.sh              build and run
#   scripts/tsan.sh --no-build   run what build/tsan holds
#
# Reports go to build/tsan/tsan-reports/report.<pid> (one file per process,
# the agents the tests start included), so a race inside an agent is not lost
# in a test's captured output.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/tsan
reports=$build/tsan-reports
build_first=1
jobs=2

while (($#)); do
  case $1 in
    --no-build) build_first=0; shift ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tsan.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# The tests below and what starts the agents they need.
test_targets=(hostpulse hostpulse-webhook hostpulse_core_tests hostpulse_collectors_tests hostpulse_e2e_tests
              hostpulse_stream_tests hostpulse_alerts_e2e_tests)
agent_tests='^(e2e|stream|alerts)\.'

if ((build_first)); then
  source "$root/scripts/ccache_env.sh"
  # The dashboard's embed step reads uplot from node_modules.
  [[ -d $root/node_modules ]] || { echo "tsan.sh: node_modules is missing (scripts/setup.sh)" >&2; exit 1; }
  # clang: GCC 12 warns (-Wtsan, an error with -Werror) on every
  # atomic_thread_fence in Boost.Asio's headers, which we cannot change.
  command -v clang++ >/dev/null || { echo "tsan.sh: clang++ is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DHOSTPULSE_TSAN=ON -DHOSTPULSE_WERROR=ON \
    -DHOSTPULSE_BUILD_BENCHMARKS=OFF "${ccache_launcher[@]}" >/dev/null
  cmake --build "$build" -j"$jobs" --target "${test_targets[@]}"
fi

rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error: the first race ends the process, so it cannot be missed or
# drowned by follow-on reports. second_deadlock_stack: both stacks of a
# lock-order inversion.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 log_path=$reports/report"

status=0
start=$SECONDS
echo "== hostpulse_core_tests under ThreadSanitizer"
"$build/tests/hostpulse_core_tests" --gtest_brief=1 || status=1
echo "== the filesystems source's worker under ThreadSanitizer"
"$build/tests/hostpulse_collectors_tests" --gtest_brief=1 --gtest_filter='Filesystems*' || status=1
echo "== agent end-to-end tests under ThreadSanitizer"
ctest --test-dir "$build" -R "$agent_tests" --output-on-failure -j"$jobs" --timeout 300 || status=1
echo "tsan.sh: tests ran in $((SECONDS - start)) s"

shopt -s nullglob
found=("$reports"/report.*)
if ((${#found[@]})); then
  echo "tsan.sh: ThreadSanitizer reported in ${#found[@]} process(es):" >&2
  for report in "${found[@]}"; do
    echo "--- $report" >&2
    grep -m1 -E '^WARNING: ThreadSanitizer|^ThreadSanitizer:' "$report" >&2 || true
    grep -m1 -E '^SUMMARY: ThreadSanitizer' "$report" >&2 || true
  done
  status=1
fi
exit "$status"
