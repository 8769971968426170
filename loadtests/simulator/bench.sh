#!/usr/bin/env bash
# Benchmark of the simulator (a benchmark, not a test: it prints figures and never fails on them).
#
#   1. Throughput: plain (non-streamed) chat completions with zero latencies, wrk -t2 -c32, run RUNS times;
#      the median requests/s is compared with the 40,000 req/s target.
#   2. Memory: 2,000 streamed chat completions held open at once (50 ms between tokens, 100 tokens, so
#      each stream lasts ~5 s); the simulator's peak RSS (VmHWM) is compared with the 300 MB target.
#
# Usage: loadtests/simulator/bench.sh            (from anywhere; the repo is found from this file)
#   RUNS=5 loadtests/simulator/bench.sh          (more throughput runs; the median is reported)
# Knobs (environment): RUNS (3), DURATION (10s, whole seconds), CONNECTIONS (32), STREAMS (2000),
# HEALTH_BASELINE (1: also measure GET /health, the ceiling of Kestrel + wrk here; 0 to skip).
# DOTNET_* variables (e.g. DOTNET_gcServer=0, DOTNET_TieredPGO=0) reach the simulator, to compare runtime settings.
#
# Everything runs on one machine: wrk/hey share the CPU with the simulator, so the figures are a floor,
# and anything else running (a build next door) lowers them; the summary says how much CPU others took.
set -euo pipefail

RUNS="${RUNS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
STREAMS="${STREAMS:-2000}"
HEALTH_BASELINE="${HEALTH_BASELINE:-1}"
TARGET_RPS=40000
TARGET_RSS_MB=300

REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROJECT="$REPO_ROOT/src/Gateway.Simulator/Gateway.Simulator.csproj"
WORK="$(mktemp -d -t simulator-bench.XXXXXX)"
SIM_PID=""
POLL_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }

# Whatever happens (end, error, Ctrl-C), stop what this script started and remove its temp files.
cleanup() {
    local pid
    for pid in "$POLL_PID" "$SIM_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Tools -------------------------------------------------------------------------------------------
# wrk measures throughput and latency percentiles; hey holds N connections open for exactly N requests,
# which wrk cannot do (it reconnects for the whole duration). Install only what is missing.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v hey >/dev/null || missing+=(hey)
command -v curl >/dev/null || missing+=(curl)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2,000 client sockets and 2,000 server sockets both count against the open-file limit that the
# simulator and hey inherit from this shell.
needed_fds=$((STREAMS + 1024))
if (($(ulimit -n) < needed_fds)); then
    hard="$(ulimit -Hn)"
    if [[ "$hard" == unlimited ]] || ((hard >= needed_fds)); then
        ulimit -n "$needed_fds"
    else
        ulimit -n "$hard"
        log "warning: open-file limit is $hard (hard); $STREAMS streams need about $needed_fds"
    fi
fi

# --- Build -------------------------------------------------------------------------------------------
# Release, published to a temp folder, so the runs use optimised code and do not touch bin/ of a Debug build.
log "building the simulator (Release) from $REPO_ROOT"
timeout 100 dotnet publish "$PROJECT" -c Release -o "$WORK/sim" --nologo -v quiet >"$WORK/build.log" 2>&1 || {
    cat "$WORK/build.log" >&2
    exit 1
}

# Starts the simulator on a free port with the given flags; sets SIM_PID and SIM_URL. It runs in the
# small temp folder: the ASP.NET host watches its current directory tree for appsettings.json changes,
# which costs ~25 MB of RSS when started from / , and the figures should not depend on where this ran.
start_simulator() {
    (cd "$WORK" && exec "$WORK/sim/Gateway.Simulator" --port 0 "$@") >"$WORK/sim.log" 2>&1 &
    SIM_PID=$!
    SIM_URL=""
    local _
    for _ in $(seq 1 150); do
        SIM_URL="$(grep -o 'Simulator listening on http://[^ ]*' "$WORK/sim.log" | awk '{print $4}' || true)"
        [[ -n "$SIM_URL" ]] && return 0
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "the simulator did not start:"
    cat "$WORK/sim.log" >&2
    exit 1
}

stop_simulator() {
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=""
}

# A line of /proc/PID/status in MB (VmHWM is the peak resident set size since the process started).
proc_mb() { awk -v key="$2:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# A counter or gauge from the simulator's Prometheus page, 0 when absent.
metric() {
    { curl -s --max-time 5 "$SIM_URL/metrics" || true; } | awk -v name="$1" -v label="$2" \
        'index($0, name "{") == 1 && index($0, label) > 0 { value = $2 } END { print value + 0 }'
}

# --- 1. Throughput -----------------------------------------------------------------------------------
# wrk sends a fixed body; a Lua script is the only way to give it a method, headers and a body.
cat >"$WORK/chat.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"qwen","messages":[{"role":"user","content":"Hello"}],"max_tokens":10}'
LUA

# --max-num-seqs 32: one sequence per wrk connection, so no request waits in the scheduler's queue and
# the figure is the HTTP + JSON path (with zero latencies a request holds its slot for microseconds anyway).
start_simulator --max-num-seqs "$CONNECTIONS"
log "simulator pid $SIM_PID at $SIM_URL"

# Tiered JIT and dynamic PGO need a few seconds of traffic before the hot path runs optimised code.
log "warming up (3s)"
timeout 30 wrk -t2 -c"$CONNECTIONS" -d3s -s "$WORK/chat.lua" "$SIM_URL/v1/chat/completions" >/dev/null

# CPU accounting, so a run disturbed by other processes (a build next door) can be told from a slow
# simulator: on 2 cores, anything else running takes its share from the simulator and wrk.
CLK_TCK="$(getconf CLK_TCK)"
# Machine-wide busy time: user + nice + system + irq + softirq + steal (a process is charged for the
# softirq work done on its behalf, so in a quiet machine busy = simulator + wrk, within 0.05 cores).
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
sim_ticks() { awk '{ print $14 + $15 }' "/proc/$SIM_PID/stat"; } # the simulator's user + system

# One wrk run against $1 (extra wrk arguments follow). Prints one line:
#   requests/s  p50  p99  non-2xx  simulator-cores  simulator-CPU-us-per-request  other-processes-cores
measure() {
    local url="$1" out="$WORK/wrk.txt" seconds="${DURATION%s}"
    shift
    local busy0 sim0 busy1 sim1
    busy0="$(busy_ticks)"
    sim0="$(sim_ticks)"
    # GNU time reports wrk's own CPU; what neither wrk nor the simulator used was someone else's.
    timeout 60 /usr/bin/time -f '%U %S' -o "$WORK/wrk-cpu.txt" \
        wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out"
    busy1="$(busy_ticks)"
    sim1="$(sim_ticks)"
    awk -v hz="$CLK_TCK" -v secs="$seconds" -v sim=$((sim1 - sim0)) -v busy=$((busy1 - busy0)) \
        -v wrk_cpu="$(awk '{ print $1 + $2 }' "$WORK/wrk-cpu.txt")" '
        /Requests\/sec:/            { rps = $2 }
        /requests in/               { requests = $1 }
        $1 == "50%"                  { p50 = $2 }
        $1 == "99%"                  { p99 = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END {
            other = (busy / hz - sim / hz - wrk_cpu) / secs
            printf "%.0f %s %s %d %.2f %.1f %.2f\n", rps, p50, p99, bad, sim / hz / secs,
                requests ? sim / hz * 1e6 / requests : 0, other < 0 ? 0 : other
        }' "$out"
}

results="$WORK/throughput.txt"
: >"$results"
for run in $(seq 1 "$RUNS"); do
    line="$(measure "$SIM_URL/v1/chat/completions" -s "$WORK/chat.lua")"
    read -r rps p50 p99 bad sim_cores sim_us other <<<"$line"
    log "run $run/$RUNS: $rps req/s, p50 $p50, p99 $p99, non-2xx $bad," \
        "simulator $sim_cores cores ($sim_us us CPU/request), other processes $other cores"
    echo "$line" >>"$results"
done

# The median run by requests/s; its latencies are reported with it. Beyond 0.2 cores taken by other
# processes in any run, the summary warns that the figures are low.
read -r med_rps med_p50 med_p99 med_bad med_sim_cores med_sim_us _ < <(sort -g -k1,1 "$results" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')
all_rps="$(awk '{ printf "%s%s", sep, $1; sep = " " }' "$results")"
max_other="$(awk '$7 > max { max = $7 } END { printf "%.2f", max }' "$results")"
throughput_rss="$(proc_mb "$SIM_PID" VmHWM)"

# The same wrk against GET /health (no body, no JSON): the ceiling of Kestrel + wrk on this machine,
# to tell how much of the time the completion path itself costs.
health="skipped"
if [[ "$HEALTH_BASELINE" == 1 ]]; then
    read -r health_rps _ _ _ _ health_us health_other < <(measure "$SIM_URL/health")
    health="$health_rps req/s, $health_us us CPU/request (other processes $health_other cores)"
    log "GET /health: $health"
fi
stop_simulator

# --- 2. Memory with 2,000 open streams ---------------------------------------------------------------
# A fresh process, so VmHWM measures this phase only. Every stream gets a sequence at once (no waiting),
# and 100 tokens 50 ms apart keep all of them open together for ~5 s.
start_simulator --max-num-seqs "$STREAMS" --max-waiting-queue-length "$STREAMS" --inter-token-latency 50
log "simulator pid $SIM_PID at $SIM_URL; opening $STREAMS streams"
idle_rss="$(proc_mb "$SIM_PID" VmRSS)"

printf '%s' '{"model":"qwen","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}' >"$WORK/stream.json"

# While the streams run, sample how many sequences the simulator runs at once, to show that all of
# them were really open together (the peak memory only means something if they were).
(
    peak=0
    while true; do
        running="$(metric 'vllm:num_requests_running' 'model_name')"
        if ((running > peak)); then
            peak=$running
            echo "$peak" >"$WORK/peak-running"
        fi
        sleep 0.2
    done
) &
POLL_PID=$!

# hey: one worker per stream and exactly one request each, so all $STREAMS are open at the same time.
timeout 60 hey -c "$STREAMS" -n "$STREAMS" -t 30 -m POST -T application/json -D "$WORK/stream.json" \
    "$SIM_URL/v1/chat/completions" >"$WORK/hey.txt" 2>&1 || true
kill "$POLL_PID" 2>/dev/null || true
wait "$POLL_PID" 2>/dev/null || true
POLL_PID=""

streams_rss="$(proc_mb "$SIM_PID" VmHWM)"
peak_running="$(cat "$WORK/peak-running" 2>/dev/null || echo 0)"
# Client side: HTTP 200 answers; server side: sequences that wrote all their tokens and [DONE].
streams_ok="$(awk '$1 == "[200]" { print $2 }' "$WORK/hey.txt")"
streams_ok="${streams_ok:-0}"
streams_done="$(metric 'vllm:request_success_total' 'finished_reason="length"')"
streams_aborted="$(metric 'vllm:request_success_total' 'finished_reason="abort"')"
streams_slowest="$(awk '$1 == "Slowest:" { print $2 " s" }' "$WORK/hey.txt")"
if grep -q 'Error distribution' "$WORK/hey.txt"; then
    log "hey reported errors:"
    sed -n '/Error distribution/,$p' "$WORK/hey.txt" >&2
fi
stop_simulator

# --- Summary -----------------------------------------------------------------------------------------
# Runtime knobs in effect (DOTNET_gcServer, DOTNET_TieredPGO, ...), not the CLI's own settings.
dotnet_env="$(env | grep '^DOTNET_' | grep -v -E '^DOTNET_(CLI_|NOLOGO|GENERATE_ASPNET|SKIP_FIRST)' | sort | tr '\n' ' ' || true)"
verdict() { if awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { exit !(op == ">=" ? a >= b : a < b) }'; then echo "met"; else echo "NOT met"; fi; }
summary="$(
    cat <<EOF

Simulator benchmark  ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, dotnet $(dotnet --version)) ${dotnet_env}
Throughput: POST /v1/chat/completions, max_tokens 10, zero latencies, wrk -t2 -c$CONNECTIONS -d$DURATION x $RUNS
  requests/s (median)      $med_rps   runs: $all_rps
  latency p50 / p99        $med_p50 / $med_p99   (median run)
  non-2xx answers          $med_bad   (median run)
  simulator CPU            $med_sim_cores cores, $med_sim_us us per request   (median run)
  GET /health ceiling      $health
  other processes' CPU     up to $max_other cores during the runs$(awk -v x="$max_other" 'BEGIN { if (x > 0.2) print "  <- the machine was busy: figures are low" }')
  simulator peak RSS       $throughput_rss MB
  target >= $TARGET_RPS req/s   $(verdict "$med_rps" "$TARGET_RPS" ">=")
Memory: $STREAMS concurrent streams, 100 tokens at 50 ms
  streams answered 200     $streams_ok / $STREAMS   (server: $streams_done finished, $streams_aborted aborted)
  peak running at once     $peak_running
  slowest stream           $streams_slowest
  simulator RSS idle/peak  $idle_rss MB / $streams_rss MB
  target < $TARGET_RSS_MB MB           $(verdict "$streams_rss" "$TARGET_RSS_MB" "<")
EOF
)"
echo "$summary"

# Keep a copy in loadtests/results/ (git-ignored), to compare runs over time.
mkdir -p "$REPO_ROOT/loadtests/results"
echo "$summary" >"$REPO_ROOT/loadtests/results/simulator-$(date -u +%Y%m%dT%H%M%SZ).txt"
