#!/usr/bin/env bash
# Sets up, builds and runs every test: a RelWithDebInfo build with warnings as
# errors, then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# then the libFuzzer targets (20 s each; HOSTPULSE_FUZZ_SECONDS sets it).
#   ./scripts/test.sh           everything (what CI runs)
#   ./scripts/test.sh --quick   skip the sanitizer and fuzzing passes
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for argument in "$@"; do
  case "$argument" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$argument' (try --help)" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
jobs=$(nproc)

# Every configuration compiles through ccache.
source scripts/ccache_env.sh

run_suite() {
  local directory=$1; shift
  echo "== building $directory"
  cmake -S . -B "$directory" -DHOSTPULSE_WERROR=ON "${ccache_launcher[@]}" "$@" >/dev/null
  cmake --build "$directory" -j"$jobs"
  echo "== testing $directory"
  # Tests start agents on loopback; two at a time keeps timing-sensitive ones honest.
  ctest --test-dir "$directory" --output-on-failure -j2 --timeout 300
}

run_suite build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo
if ((quick == 0)); then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build/asan -DCMAKE_BUILD_TYPE=Debug -DHOSTPULSE_SANITIZE=ON -DHOSTPULSE_BUILD_BENCHMARKS=OFF
  # Every parser of outside input under libFuzzer (clang, ASan + UBSan): a
  # short run of each target from its seeds, then every seed once as a
  # regression test (docs/fuzzing.md).
  echo "== fuzzing (build/fuzz)"
  ./scripts/fuzz.sh --seconds "${HOSTPULSE_FUZZ_SECONDS:-20}"
  ctest --test-dir build/fuzz -L fuzz --output-on-failure -j2 --timeout 300
fi
echo "== all tests passed"
