#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, build/fuzz) and fuzzes each
# one for a bounded time, starting from a scratch copy of its seed corpus (the
# committed corpus never grows here). Exits non-zero when any target crashed,
# leaked, timed out or ran out of memory, printing the reproducer's path.
#
#   scripts/fuzz.sh                     every target, 20 s each, 2 at a time
#   scripts/fuzz.sh --seconds 300       longer
#   scripts/fuzz.sh --only url          one target (repeat --only for more)
#   scripts/fuzz.sh --list              the target names
#   scripts/fuzz.sh --no-build          use build/fuzz as it is
#
# Fuzzing for hours, minimizing and reproducing: docs/fuzzing.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/fuzz
seconds=20
parallel=2
build_first=1
only=()
list=0

# A parser that needs more than this is a finding, not a configuration problem.
rss_limit_mb=2048
# Inputs past this size only slow the search down: the largest seed (a 64-CPU
# /proc/stat) is 11 KiB, config files are a few KiB.
max_len=16384
# One input taking this long is reported as a hang.
timeout_seconds=10

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

while (($#)); do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --only) only+=("${2:?--only needs a target name}"); shift 2 ;;
    --jobs) parallel=${2:?--jobs needs a number}; shift 2 ;;
    --no-build) build_first=0; shift ;;
    --list) list=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: --seconds must be a positive integer" >&2; exit 2; }

targets=()
for source in "$root"/tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$source" _fuzz.cpp)
  targets+=("$name")
done
if ((list)); then printf '%s\n' "${targets[@]}"; exit 0; fi
if ((${#only[@]})); then
  for name in "${only[@]}"; do
    [[ " ${targets[*]} " == *" $name "* ]] || { echo "fuzz.sh: no target '$name' (see --list)" >&2; exit 2; }
  done
  targets=("${only[@]}")
fi

if ((build_first)); then
  command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  source "$root/scripts/ccache_env.sh"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DHOSTPULSE_FUZZ=ON -DHOSTPULSE_WERROR=ON "${ccache_launcher[@]}" >/dev/null
  build_targets=()
  for name in "${targets[@]}"; do build_targets+=("${name}_fuzz"); done
  cmake --build "$build" -j"$parallel" --target "${build_targets[@]}"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/hostpulse-fuzz.XXXXXX")
echo "fuzz.sh: ${#targets[@]} targets, ${seconds} s each, $parallel at a time; work in $scratch"

# Runs one target; its log, grown corpus and any crash file stay in $scratch/<name>.
run_one() {
  local name=$1 dir=$scratch/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/tests/fuzz/corpus/$name"/* "$dir/corpus/"
  local status=0
  # No stdin: libFuzzer's -close_fd_mask is not needed, nothing reads it.
  "$build/tests/fuzz/${name}_fuzz" "$dir/corpus" \
    -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -max_len="$max_len" -timeout="$timeout_seconds" \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 </dev/null >"$dir/log" 2>&1 || status=$?
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo '?')
  if ((status != 0)); then
    echo "FAIL $name (exit $status, $runs runs); log: $dir/log"
    local artifact
    for artifact in "$dir"/artifacts/*; do
      [[ -e $artifact ]] || continue
      echo "     reproducer: $artifact"
      echo "     reproduce:  $build/tests/fuzz/${name}_fuzz $artifact"
    done
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$dir/log" | sed 's/^/     /' || true
    return 1
  fi
  echo "ok   $name ($runs runs in ${seconds} s)"
}
export -f run_one
export scratch root build seconds rss_limit_mb max_len timeout_seconds

failed=0
start=$SECONDS
printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -I{} bash -c 'run_one {}' || failed=1
echo "fuzz.sh: done in $((SECONDS - start)) s"
if ((failed)); then
  echo "fuzz.sh: at least one target failed; logs and reproducers are in $scratch" >&2
  exit 1
fi
rm -rf "$scratch"
