#!/usr/bin/env bash
# hostpulse benchmarks (issue 8): builds Release with benchmarks in build/bench,
# runs them, prints tables and rewrites docs/PERFORMANCE.md.
#
#   scripts/bench.sh                      # everything (about 12 minutes)
#   scripts/bench.sh --quick              # smoke: every part, short and small
#   scripts/bench.sh --only tick,wire     # a subset: tick, wire, history, memory, fanout, peers, scrape
#   scripts/bench.sh --no-doc             # print only, leave docs/PERFORMANCE.md alone
#
# A subset rewrites only its own sections of docs/PERFORMANCE.md (and its rows
# of the goals table); the rest of the file stays as it was.
#
# Needs what scripts/setup.sh installs; the peer comparison also installs
# Debian's netdata (here only, never by setup.sh; node_exporter comes from setup.sh).
# Everything listens on 127.0.0.1 only; every process started is killed by PID.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
command_line="scripts/bench.sh $*"
all_parts="tick,wire,history,memory,fanout,peers,scrape"
only=$all_parts
quick=0
write_doc=1
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --no-doc) write_doc=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
wants() { [[ ",$only," == *",$1,"* ]]; }

build=build/bench
results=$build/results
rm -rf "$results" && mkdir -p "$results"
work=$(mktemp -d /tmp/hostpulse-bench.XXXXXX)

# Every background process goes into pids; the trap kills them (and the
# process trees of the peers) by PID on any exit.
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true   # children of this PID only
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
stop() {  # stop PID [more PIDs]
  local pid
  for pid in "$@"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

echo "bench: building Release with benchmarks in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHOSTPULSE_BUILD_BENCHMARKS=ON >"$work/cmake.log" ||
  { cat "$work/cmake.log"; exit 1; }
# Only what the parts asked for need: each target costs minutes on a small machine.
targets=(hostpulse)
wants tick && targets+=(hostpulse_tick_benchmark)
wants wire && targets+=(hostpulse_wire_size)
{ wants memory || wants fanout || wants peers; } && targets+=(hostpulse_loadgen)
wants fanout && targets+=(hostpulse_raw_broadcaster)
wants scrape && targets+=(hostpulse_scrape_benchmark)
wants history && targets+=(hostpulse_history_benchmark)
cmake --build "$build" -j2 --target "${targets[@]}" >"$work/build.log" 2>&1 || { tail -50 "$work/build.log"; exit 1; }
agent=$build/agent/hostpulse
loadgen=$build/bench/hostpulse_loadgen

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if ((quick)); then
  repetitions=1 min_time=0.02 fan_seconds=4 fan_warmup=2 peer_seconds=10 many=1000 some=200 memory_n=200 fan_reps=1
  scrape_seconds=10 scrape_blocks=2 scrape_warmup=3
else
  # Fan-out: every configuration runs fan_reps times, interleaved; the report takes medians.
  repetitions=5 min_time=0.2 fan_seconds=20 fan_warmup=5 peer_seconds=60 many=10000 some=1000 memory_n=1000 fan_reps=3
  # Scrape: 60 s scraped and 60 s quiet, in 4 alternating blocks of each.
  scrape_seconds=60 scrape_blocks=4 scrape_warmup=10
fi

# A free port on loopback (asks the kernel).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT: until something accepts connections there (at most 10 s).
wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: nothing listening on port $1" >&2; return 1
}

# ensure_packages PACKAGE...: Debian packages the peer runs need (bench only).
ensure_packages() {
  local package missing=() sudo_cmd=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  echo "bench: installing ${missing[*]} (bench only)"
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The generated large host (every source, many entities), once per run: fresh,
# so it matches the generators.
large_host() {
  if [[ ! -d $work/large_host ]]; then python3 "$root/tests/fixtures/make_large_host.py" "$work/large_host"; fi
  export HOSTPULSE_LARGE_HOST="$work/large_host"
}

# start_agent INTERVAL -> sets agent_pid and agent_port
start_agent() {
  agent_port=$(free_port)
  cat >"$work/agent.toml" <<EOF
listen = "127.0.0.1:$agent_port"
interval = "$1"
log_level = "warn"
[http]
max_connections = 30000
[stream]
max_connections = 30000
max_connections_per_ip = 30000
EOF
  "$agent" --config "$work/agent.toml" 2>"$work/agent.log" &
  agent_pid=$!
  pids+=("$agent_pid")
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$agent_port/api/v1/health" >/dev/null && return 0; sleep 0.1; done
  echo "bench: agent did not start" >&2; cat "$work/agent.log" >&2; exit 1
}

# ---------------------------------------------------------------- 1. tick
if wants tick; then
  echo "bench: per-tick cost (Google Benchmark, $repetitions repetitions, medians)"
  large_host
  "$build/bench/hostpulse_tick_benchmark" --check-allocations | tee "$results/tick_allocations.txt"
  "$build/bench/hostpulse_tick_benchmark" --benchmark_repetitions="$repetitions" \
    --benchmark_min_time="$min_time" --benchmark_report_aggregates_only=true \
    --benchmark_out="$results/tick.json" --benchmark_out_format=json >/dev/null
fi

# ---------------------------------------------------------------- 4. wire size
if wants wire; then
  echo "bench: wire size"
  "$build/bench/hostpulse_wire_size" | tee "$results/wire.md"
fi

# ---------------------------------------------------------------- 7. history
if wants history; then
  echo "bench: history compression, append and query"
  "$build/bench/hostpulse_history_benchmark" | tee "$results/history.txt"
fi

# ---------------------------------------------------------------- 5. memory per subscriber
if wants memory; then
  for mode in idle subscribed; do
    echo "bench: memory per $mode connection ($memory_n connections)"
    start_agent 1s
    sleep 3
    rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$agent_pid/status")
    flag=(); [[ $mode == idle ]] && flag=(--idle)
    "$loadgen" --port "$agent_port" --connections "$memory_n" "${flag[@]}" --warmup 3 --duration 2 \
      --server-pid "$agent_pid" --label "memory_$mode" >"$work/memory.json"
    python3 - "$rss_before" "$memory_n" "$mode" "$work/memory.json" >>"$results/memory.jsonl" <<'EOF'
import json, sys
before, n, mode, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
run = json.load(open(path))
print(json.dumps({"mode": mode, "connections": n, "alive": run["alive"], "rss_before_kib": before,
                  "rss_after_kib": run["server_rss_kib"],
                  "kib_per_connection": (run["server_rss_kib"] - before) / max(1, run["alive"])}))
EOF
    tail -1 "$results/memory.jsonl"
    stop "$agent_pid"
  done
fi

# ---------------------------------------------------------------- 3. fan-out
if wants fanout; then
  # One frame captured from hostpulse is what the baselines send.
  start_agent 1s
  "$loadgen" --port "$agent_port" --connections 1 --capture "$work/template.json" >/dev/null
  stop "$agent_pid"

  # fan SERVER INTERVAL_MS SUBSCRIBERS STALLED LABEL REP
  fan() {
    local server=$1 interval_ms=$2 n=$3 stalled=$4 label=$5 rep=$6 pid port
    case $server in
      hostpulse) start_agent "${interval_ms}ms"; pid=$agent_pid; port=$agent_port ;;
      node_ws)
        port=$(free_port)
        node bench/ws_broadcaster.mjs "$port" "$interval_ms" "$work/template.json" 2>"$work/node.log" &
        pid=$!; pids+=("$pid"); wait_port "$port" ;;
      raw_tcp)
        port=$(free_port)
        "$build/bench/hostpulse_raw_broadcaster" --port "$port" --interval-ms "$interval_ms" \
          --template "$work/template.json" 2>"$work/raw.log" &
        pid=$!; pids+=("$pid"); wait_port "$port" ;;
    esac
    echo "bench: fan-out $label (run $rep of $fan_reps): $server, $n subscribers$( ((stalled)) && echo " + $stalled stalled"), every ${interval_ms} ms"
    "$loadgen" --port "$port" --connections "$n" --stalled "$stalled" --warmup "$fan_warmup" \
      --duration "$fan_seconds" --server-pid "$pid" --label "$label" |
      python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["server"]=sys.argv[1]; r["interval_ms"]=int(sys.argv[2]); r["rep"]=int(sys.argv[3]); print(json.dumps(r))' \
        "$server" "$interval_ms" "$rep" | tee -a "$results/fanout.jsonl"
    stop "$pid"
  }
  for ((rep = 1; rep <= fan_reps; rep++)); do
    for server in hostpulse node_ws raw_tcp; do
      fan "$server" 1000 "$some" 0 "${some}_1hz" "$rep"
      fan "$server" 1000 "$many" 0 "${many}_1hz" "$rep"
    done
    fan hostpulse 100 100 0 "100_10hz" "$rep"      # the agent's fastest interval (100 ms)
    fan hostpulse 1000 100 0 "100_1hz" "$rep"
    fan hostpulse 1000 100 10 "100_1hz_10_stalled" "$rep"
  done
fi

# ---------------------------------------------------------------- 2. peers
if wants peers; then
  ensure_packages prometheus-node-exporter netdata
  echo "bench: agents side by side for ${peer_seconds} s (+10 s warm-up)"
  start_agent 1s
  hp_pid=$agent_pid hp_port=$agent_port
  # One dashboard-like subscriber: every series, JSON, reading each frame.
  "$loadgen" --port "$hp_port" --connections 1 --warmup 0 --duration $((peer_seconds + 20)) \
    >/dev/null 2>&1 & pids+=($!)

  ne_port=$(free_port)
  prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port" >"$work/node_exporter.log" 2>&1 &
  ne_pid=$!; pids+=("$ne_pid")
  ( while sleep 1; do curl -s -o /dev/null "http://127.0.0.1:$ne_port/metrics"; done ) & pids+=($!)

  nd_port=$(free_port)
  mkdir -p "$work/netdata"/{cache,lib,log,run}
  cat >"$work/netdata.conf" <<EOF
[global]
    run as user = $(id -un)
    update every = 1
[db]
    update every = 1
[directories]
    cache = $work/netdata/cache
    lib = $work/netdata/lib
    log = $work/netdata/log
    run = $work/netdata/run
[logs]
    debug log = none
    error log = $work/netdata/log/error.log
    access log = none
[web]
    bind to = 127.0.0.1:$nd_port
[cloud]
    enabled = no
[registry]
    enabled = no
EOF
  /usr/sbin/netdata -D -c "$work/netdata.conf" -P "$work/netdata/run/netdata.pid" >"$work/netdata.out" 2>&1 &
  nd_pid=$!; pids+=("$nd_pid")
  # One client polling the data API once per second, like a dashboard chart.
  ( while sleep 1; do
      curl -s -o /dev/null "http://127.0.0.1:$nd_port/api/v1/data?chart=system.cpu&after=-60&format=json"
    done ) & pids+=($!)

  sleep 10
  python3 bench/proc_sampler.py --seconds "$peer_seconds" hostpulse="$hp_pid" \
    node_exporter="$ne_pid" netdata="$nd_pid" | tee "$results/peers.json"
  # netdata's plugins are its children; stop() ends them by parent PID.
  stop "$nd_pid" "$ne_pid" "$hp_pid"
fi

# ---------------------------------------------------------------- 6. Prometheus scrape
if wants scrape; then
  large_host
  echo "bench: rendering a scrape (Google Benchmark, $repetitions repetitions, medians)"
  # Interleaved: with and without expose_to differ by less than this machine's drift.
  "$build/bench/hostpulse_scrape_benchmark" --benchmark_repetitions="$repetitions" \
    --benchmark_min_time="$min_time" --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$results/scrape_bench.json" --benchmark_out_format=json >/dev/null
  ensure_packages prometheus-node-exporter
  echo "bench: GET /metrics, hostpulse and node_exporter, ${scrape_seconds} s scraped + ${scrape_seconds} s quiet"
  start_agent 1s
  hp_pid=$agent_pid hp_port=$agent_port
  ne_port=$(free_port)
  /usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port" >"$work/node_exporter.log" 2>&1 &
  ne_pid=$!; pids+=("$ne_pid")
  wait_port "$ne_port"
  python3 bench/prometheus_scraper.py --seconds "$scrape_seconds" --blocks "$scrape_blocks" \
    --warmup "$scrape_warmup" hostpulse="$hp_pid@http://127.0.0.1:$hp_port/metrics" \
    node_exporter="$ne_pid@http://127.0.0.1:$ne_port/metrics" | tee "$results/scrape.json"
  stop "$ne_pid" "$hp_pid"
fi

# ---------------------------------------------------------------- report
merge=()
# A subset keeps the sections of the parts it did not run.
[[ $only != "$all_parts" && -f docs/PERFORMANCE.md ]] && merge=(--merge docs/PERFORMANCE.md)
python3 bench/report.py --results "$results" --command "$command_line" --quick "$quick" \
  --out "$work/PERFORMANCE.md" "${merge[@]}"
cat "$work/PERFORMANCE.md"
if ((write_doc)); then
  cp "$work/PERFORMANCE.md" docs/PERFORMANCE.md
  echo "bench: wrote docs/PERFORMANCE.md"
fi
