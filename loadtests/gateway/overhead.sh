#!/usr/bin/env bash
# The gateway's per-request overhead (a benchmark, not a test: it prints figures and never fails on them).
#
# One simulator with zero latencies on loopback, one gateway in front of it (one service, one Static pool,
# CapacityPerReplica large enough that the queue never holds anything), and the same requests sent straight
# to the simulator and through the gateway:
#   1. Throughput: plain chat completions, wrk -t2 -c$CONNECTIONS, RUNS times each way, alternating; the
#      median run of each. CPU per request of the gateway and of the simulator from /proc/PID/stat
#      (user + system) over the run divided by the requests: on 2 shared cores these are steadier than
#      requests/s. Allocated bytes per request of the gateway from the runtime's total-allocated counter
#      (dotnet-counters, when installed: `dotnet tool install -g dotnet-counters`).
#   2. Added latency at ~1,000 requests/s: wrk -t1 -c10 with a 10 ms pause between a connection's requests
#      (wrk's Lua delay(); wrk2 is not available here), straight vs through; the gateway's p50 and p99
#      minus the simulator's.
#   3. Memory: STREAMS concurrent streamed completions through a fresh gateway (100 tokens 50 ms apart), the
#      gateway's peak RSS (VmHWM).
#
# Usage: loadtests/gateway/overhead.sh           (from anywhere; the repo is found from this file)
# Knobs (environment): RUNS (3), DURATION (10s), CONNECTIONS (32), LATENCY_SECONDS (10), STREAMS (2000; 0 skips),
# PHASES ("throughput latency streams"), AUTH (0; 1: Auth:Mode ApiKeys, one tenant with a key and request, token and
# concurrency limits far above the load, so every request is authenticated and charged but none is limited; the
# clients send the key), OTLP (0; 1: OpenTelemetry on with every trace sampled, exporting traces and GenAI metrics over
# OTLP/HTTP to a sink on loopback, `Gateway.LoadTests otlp-sink`, which reads and drops them). DOTNET_* variables reach the gateway only (GATEWAY_ENV is added to
# it too), to compare runtime settings; the simulator runs as its project builds it.
set -euo pipefail

RUNS="${RUNS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
LATENCY_SECONDS="${LATENCY_SECONDS:-10}"
STREAMS="${STREAMS:-2000}"
PHASES="${PHASES:-throughput latency streams}"
AUTH="${AUTH:-0}"
OTLP="${OTLP:-0}"
API_KEY="overhead-test-key-0123456789"

REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d -t gateway-overhead.XXXXXX)"
SIM_PID=""
GW_PID=""
SINK_PID=""
log() { printf '[overhead] %s\n' "$*" >&2; }

cleanup() {
    local pid
    for pid in "$GW_PID" "$SIM_PID" "$SINK_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk hey curl; do
    command -v "$tool" >/dev/null || { log "$tool is needed (apt-get install $tool)"; exit 1; }
done
COUNTERS="$(command -v dotnet-counters || ls "$HOME/.dotnet/tools/dotnet-counters" 2>/dev/null || true)"

needed_fds=$((STREAMS * 2 + 1024))
if (($(ulimit -n) < needed_fds)); then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

# --- Build: Release, published to a temp folder (the gateway's output holds the simulator too) ---------------
log "building the gateway (Release) from $REPO_ROOT"
timeout 300 dotnet publish "$REPO_ROOT/src/Gateway/Gateway.csproj" -c Release -o "$WORK/app" --nologo -v quiet >"$WORK/build.log" 2>&1 || {
    cat "$WORK/build.log" >&2
    exit 1
}

if [[ "$OTLP" == 1 ]]; then
    timeout 300 dotnet publish "$REPO_ROOT/loadtests/Gateway.LoadTests/Gateway.LoadTests.csproj" -c Release -o "$WORK/drills" --nologo -v quiet >"$WORK/build.log" 2>&1 || {
        cat "$WORK/build.log" >&2
        exit 1
    }
fi

wait_for_line() { # file pattern pid -> the first match
    local _ line
    for _ in $(seq 1 200); do
        line="$(grep -o "$2" "$1" | head -1 || true)"
        [[ -n "$line" ]] && { echo "$line"; return 0; }
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    log "no '$2' in $1:"
    cat "$1" >&2
    exit 1
}

# The simulator, never the bottleneck by its queue: as many sequences as the most connections used.
start_simulator() {
    (cd "$WORK" && exec env -u DOTNET_gcServer -u DOTNET_TieredPGO -u DOTNET_TieredCompilation \
        "$WORK/app/Gateway.Simulator" --port 0 --served-model-name qwen --max-num-seqs 4096 \
        --max-waiting-queue-length 4096 "$@") >"$WORK/sim.log" 2>&1 &
    SIM_PID=$!
    SIM_URL="$(wait_for_line "$WORK/sim.log" 'Simulator listening on http://[^ ]*' "$SIM_PID" | awk '{print $4}')"
    SIM_URL="${SIM_URL%/}"
}

# With OTLP=1: the collector every gateway of the run exports to, sampling every trace.
if [[ "$OTLP" == 1 ]]; then
    (cd "$WORK" && exec dotnet "$WORK/drills/Gateway.LoadTests.dll" otlp-sink) >"$WORK/sink.log" 2>&1 &
    SINK_PID=$!
    SINK_URL="$(wait_for_line "$WORK/sink.log" 'OTLP sink listening on http://[^ ]*' "$SINK_PID" | awk '{print $5}')"
    GATEWAY_ENV="${GATEWAY_ENV:-} OTEL_EXPORTER_OTLP_ENDPOINT=$SINK_URL OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=always_on"
fi

# With AUTH=1: keys required, one tenant whose limits the load never reaches (the key's hash only, as always).
tenants_json() {
    [[ "$AUTH" == 1 ]] || return 0
    local hash
    hash="$(printf '%s' "$API_KEY" | sha256sum | awk '{print $1}')"
    cat <<JSON
    "Auth": { "Mode": "ApiKeys" },
    "Tenants": [ { "Name": "bench", "ApiKeyHashes": [ "$hash" ],
      "Limits": { "RequestsPerMinute": 100000000, "TokensPerMinute": 1000000000, "MaxConcurrent": 100000 } } ],
JSON
}

# The gateway: one service, one Static pool on the simulator, capacity far above any concurrency used here.
start_gateway() {
    cat >"$WORK/gateway.json" <<JSON
{
  "Gateway": {
    "PublicUrl": "http://127.0.0.1:0",
    "AdminUrl": "http://127.0.0.1:0",
$(tenants_json)
    "Services": [
      {
        "Name": "qwen-chat",
        "Models": [ "qwen" ],
        "Queue": { "MaxWaiting": 4096 },
        "Pools": [ { "Name": "on-prem", "CapacityPerReplica": 4096, "Static": [ "$SIM_URL" ] } ]
      }
    ]
  }
}
JSON
    (cd "$WORK" && exec env ${GATEWAY_ENV:-} dotnet "$WORK/app/Gateway.dll" --config "$WORK/gateway.json") >"$WORK/gw.log" 2>&1 &
    GW_PID=$!
    local line
    line="$(wait_for_line "$WORK/gw.log" 'Gateway listening on http://[^ ]* (admin http://[^ )]*' "$GW_PID")"
    GW_URL="$(echo "$line" | awk '{print $4}')"
    GW_URL="${GW_URL%/}"
    ADMIN_URL="$(echo "$line" | awk '{print $6}')"
    ADMIN_URL="${ADMIN_URL%/}"
    local _
    for _ in $(seq 1 100); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_URL/readyz")" == 200 ]] && return 0
        sleep 0.1
    done
    log "the gateway did not become ready:"
    cat "$WORK/gw.log" >&2
    exit 1
}

stop() { # pid variable name
    local pid="${!1}"
    [[ -n "$pid" ]] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    printf -v "$1" '%s' ""
}

proc_mb() { awk -v key="$2:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
CLK_TCK="$(getconf CLK_TCK)"
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

cat >"$WORK/chat.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = "qwen-chat-default.example.com"
wrk.body = '{"model":"qwen","messages":[{"role":"user","content":"Hello"}],"max_tokens":10}'
LUA
if [[ "$AUTH" == 1 ]]; then
    echo "wrk.headers[\"Authorization\"] = \"Bearer $API_KEY\"" >>"$WORK/chat.lua"
fi
# The same request with a 10 ms pause before each one of a connection: 10 connections make ~1,000 requests/s.
{ cat "$WORK/chat.lua"; echo 'function delay() return 10 end'; } >"$WORK/paced.lua"

# Bytes the gateway allocates per request: one extra run of $1 seconds with dotnet-counters attached (kept
# out of the CPU figures, the event session costs a little), the runtime's allocation rate summed over the run
# divided by wrk's requests. Empty without dotnet-counters.
allocated_per_request() {
    [[ -n "$COUNTERS" ]] || return 0
    rm -f "$WORK/counters.csv"
    "$COUNTERS" collect -p "$GW_PID" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' \
        --format csv -o "$WORK/counters.csv" --refresh-interval 1 --duration "00:00:$(printf '%02d' $(($1 + 4)))" </dev/null >/dev/null 2>&1 &
    local counters_pid=$!
    sleep 2 # the session's start-up
    timeout 120 wrk -t2 -c"$CONNECTIONS" -d"$1"s -s "$WORK/chat.lua" "$GW_URL/v1/chat/completions" >"$WORK/wrk-alloc.txt"
    wait "$counters_pid" 2>/dev/null || true
    # Each sample is the bytes of one second; the idle seconds around the run add a few kB.
    local bytes requests
    bytes="$(awk -F, '/total_allocated/ { s += $NF } END { if (NR) printf "%.0f", s }' "$WORK/counters.csv" 2>/dev/null)"
    requests="$(awk '/requests in/ { print $1 }' "$WORK/wrk-alloc.txt")"
    [[ -n "$bytes" && -n "$requests" ]] && awk -v b="$bytes" -v n="$requests" 'BEGIN { printf "%.0f", b / n }'
}

# One wrk run at $1 (more wrk arguments follow). One line out:
#   requests/s p50 p99 non-2xx gateway-us/request simulator-us/request wrk-us/request other-cores
measure() {
    local url="$1" out="$WORK/wrk.txt" seconds="${DURATION%s}"
    shift
    local b0 s0 g0=0 b1 s1 g1=0
    b0="$(busy_ticks)"; s0="$(ticks "$SIM_PID")"; [[ -n "$GW_PID" ]] && g0="$(ticks "$GW_PID")"
    timeout 120 /usr/bin/time -f '%U %S' -o "$WORK/wrk-cpu.txt" wrk "$@" --latency "$url" >"$out"
    b1="$(busy_ticks)"; s1="$(ticks "$SIM_PID")"; [[ -n "$GW_PID" ]] && g1="$(ticks "$GW_PID")"
    awk -v hz="$CLK_TCK" -v secs="$seconds" -v sim=$((s1 - s0)) -v gw=$((g1 - g0)) -v busy=$((b1 - b0)) \
        -v wrk_cpu="$(awk '{ print $1 + $2 }' "$WORK/wrk-cpu.txt")" '
        function us(v) { if (v ~ /ms$/) return v * 1000; if (v ~ /us$/) return v + 0; if (v ~ /s$/) return v * 1e6; return v }
        /Requests\/sec:/            { rps = $2 }
        /requests in/               { requests = $1 }
        $1 == "50%"                  { p50 = us($2) }
        $1 == "99%"                  { p99 = us($2) }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END {
            other = (busy - sim - gw) / hz - wrk_cpu
            printf "%.0f %.0f %.0f %d %.1f %.1f %.1f %.2f\n", rps, p50, p99, bad,
                requests ? gw / hz * 1e6 / requests : 0, requests ? sim / hz * 1e6 / requests : 0,
                requests ? wrk_cpu * 1e6 / requests : 0, (other < 0 ? 0 : other) / secs
        }' "$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$1" | median; }

summary="Gateway overhead ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, dotnet $(dotnet --version)$([[ "$AUTH" == 1 ]] && echo ', auth and limits on')) $(env | grep '^DOTNET_' | grep -v -E '^DOTNET_(CLI_|NOLOGO|GENERATE_ASPNET|SKIP_FIRST)' | sort | tr '\n' ' ' || true)${GATEWAY_ENV:+ gateway: $GATEWAY_ENV}"

# --- 1. Throughput -----------------------------------------------------------------------------------------
if [[ " $PHASES " == *" throughput "* ]]; then
    start_simulator
    start_gateway
    log "simulator $SIM_PID at $SIM_URL, gateway $GW_PID at $GW_URL; warming up"
    timeout 60 wrk -t2 -c"$CONNECTIONS" -d5s -s "$WORK/chat.lua" "$GW_URL/v1/chat/completions" >/dev/null
    timeout 60 wrk -t2 -c"$CONNECTIONS" -d2s -s "$WORK/chat.lua" "$SIM_URL/v1/chat/completions" >/dev/null
    : >"$WORK/direct.txt"
    : >"$WORK/via.txt"
    : >"$WORK/alloc.txt"
    for run in $(seq 1 "$RUNS"); do
        line="$(GW_PID="" measure "$SIM_URL/v1/chat/completions" -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/chat.lua")"
        echo "$line" >>"$WORK/direct.txt"
        read -r rps p50 p99 bad _ sim_us wrk_us other <<<"$line"
        log "run $run direct : $rps req/s p50 ${p50}us p99 ${p99}us non-2xx $bad; simulator ${sim_us}us, wrk ${wrk_us}us CPU/request; others $other cores"
        line="$(measure "$GW_URL/v1/chat/completions" -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/chat.lua")"
        echo "$line" >>"$WORK/via.txt"
        read -r rps p50 p99 bad gw_us sim_us wrk_us other <<<"$line"
        log "run $run gateway: $rps req/s p50 ${p50}us p99 ${p99}us non-2xx $bad; gateway ${gw_us}us, simulator ${sim_us}us, wrk ${wrk_us}us CPU/request; others $other cores"
    done
    for run in 1 2 3; do
        allocated_per_request 5 >>"$WORK/alloc.txt" && echo >>"$WORK/alloc.txt"
    done
    sed -i '/^$/d' "$WORK/alloc.txt"
    log "allocated per request (3 runs of 5 s): $(tr '\n' ' ' <"$WORK/alloc.txt")"
    gw_rss="$(proc_mb "$GW_PID" VmHWM)"
    stop GW_PID
    stop SIM_PID
    summary+="
Throughput: POST /v1/chat/completions, max_tokens 10, zero latencies, wrk -t2 -c$CONNECTIONS -d$DURATION x $RUNS (medians)
                        direct      via gateway
  requests/s            $(col "$WORK/direct.txt" 1)       $(col "$WORK/via.txt" 1)     runs: $(awk '{ printf "%s ", $1 }' "$WORK/via.txt")
  latency p50 / p99 us  $(col "$WORK/direct.txt" 2) / $(col "$WORK/direct.txt" 3)   $(col "$WORK/via.txt" 2) / $(col "$WORK/via.txt" 3)
  non-2xx               $(col "$WORK/direct.txt" 4)           $(col "$WORK/via.txt" 4)
  gateway CPU us/req    -           $(col "$WORK/via.txt" 5)     runs: $(awk '{ printf "%s ", $5 }' "$WORK/via.txt")
  simulator CPU us/req  $(col "$WORK/direct.txt" 6)        $(col "$WORK/via.txt" 6)
  wrk CPU us/req        $(col "$WORK/direct.txt" 7)        $(col "$WORK/via.txt" 7)
  CPU-bound ceiling     $(nproc) cores / (gateway + simulator + wrk CPU per request) = $(awk -v n="$(nproc)" -v g="$(col "$WORK/via.txt" 5)" -v s="$(col "$WORK/via.txt" 6)" -v w="$(col "$WORK/via.txt" 7)" 'BEGIN { printf "%.0f", n * 1e6 / (g + s + w) }') req/s   (what a quiet machine would allow; target >= 25000)
  gateway B alloc/req   -           $( [[ -s "$WORK/alloc.txt" ]] && median <"$WORK/alloc.txt" || echo '? (no dotnet-counters)')
  others' CPU (cores)   up to $(cat "$WORK/direct.txt" "$WORK/via.txt" | awk '$8 > m { m = $8 } END { printf "%.2f", m }')
  gateway peak RSS      $gw_rss MB"
fi

# --- 2. Added latency at ~1,000 requests/s -------------------------------------------------------------------
if [[ " $PHASES " == *" latency "* ]]; then
    start_simulator
    start_gateway
    timeout 60 wrk -t2 -c"$CONNECTIONS" -d5s -s "$WORK/chat.lua" "$GW_URL/v1/chat/completions" >/dev/null
    : >"$WORK/lat-direct.txt"
    : >"$WORK/lat-via.txt"
    for run in $(seq 1 "$RUNS"); do
        DURATION="${LATENCY_SECONDS}s" GW_PID="" measure "$SIM_URL/v1/chat/completions" -t1 -c10 -d"${LATENCY_SECONDS}s" -s "$WORK/paced.lua" >>"$WORK/lat-direct.txt"
        DURATION="${LATENCY_SECONDS}s" measure "$GW_URL/v1/chat/completions" -t1 -c10 -d"${LATENCY_SECONDS}s" -s "$WORK/paced.lua" >>"$WORK/lat-via.txt"
        log "run $run paced: direct $(tail -1 "$WORK/lat-direct.txt" | awk '{ print $1 " req/s p50 " $2 "us p99 " $3 "us" }'), via $(tail -1 "$WORK/lat-via.txt" | awk '{ print $1 " req/s p50 " $2 "us p99 " $3 "us, gateway " $5 "us CPU/request" }')"
    done
    stop GW_PID
    stop SIM_PID
    paste "$WORK/lat-direct.txt" "$WORK/lat-via.txt" | awk '{ print $10 - $2, $11 - $3 }' >"$WORK/lat-added.txt"
    summary+="
Latency: the same request, wrk -t1 -c10 with 10 ms between a connection's requests, ${LATENCY_SECONDS}s x $RUNS (medians)
  requests/s            direct $(col "$WORK/lat-direct.txt" 1), via gateway $(col "$WORK/lat-via.txt" 1)
  p50 us                direct $(col "$WORK/lat-direct.txt" 2), via gateway $(col "$WORK/lat-via.txt" 2), added $(col "$WORK/lat-added.txt" 1)   (target <= 300)
  p99 us                direct $(col "$WORK/lat-direct.txt" 3), via gateway $(col "$WORK/lat-via.txt" 3), added $(col "$WORK/lat-added.txt" 2)   (target <= 1000)
  gateway CPU us/req    $(col "$WORK/lat-via.txt" 5)"
fi

# --- 3. Memory with STREAMS open streams ------------------------------------------------------------------------
if [[ " $PHASES " == *" streams "* ]] && ((STREAMS > 0)); then
    start_simulator --inter-token-latency 50
    start_gateway
    idle="$(proc_mb "$GW_PID" VmRSS)"
    printf '%s' '{"model":"qwen","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}' >"$WORK/stream.json"
    auth_header=()
    [[ "$AUTH" == 1 ]] && auth_header=(-H "Authorization: Bearer $API_KEY")
    timeout 90 hey -c "$STREAMS" -n "$STREAMS" -t 60 -m POST -T application/json -host qwen-chat-default.example.com "${auth_header[@]}" \
        -D "$WORK/stream.json" "$GW_URL/v1/chat/completions" >"$WORK/hey.txt" 2>&1 || true
    ok="$(awk '$1 == "[200]" { print $2 }' "$WORK/hey.txt")"
    slowest="$(awk '$1 == "Slowest:" { print $2 }' "$WORK/hey.txt")"
    peak="$(proc_mb "$GW_PID" VmHWM)"
    grep -q 'Error distribution' "$WORK/hey.txt" && sed -n '/Error distribution/,$p' "$WORK/hey.txt" >&2
    stop GW_PID
    stop SIM_PID
    summary+="
Streams: $STREAMS concurrent streamed completions through the gateway, 100 tokens 50 ms apart
  answered 200          ${ok:-0} / $STREAMS   (slowest ${slowest:-?} s; ~5 s each means all were open together)
  gateway RSS idle/peak $idle MB / $peak MB   (target < 400 MB)"
fi

if [[ -n "$SINK_PID" ]]; then
    stop SINK_PID
    summary+="
OTLP sink (every trace sampled): $(grep -E '^/v1/' "$WORK/sink.log" | tr '\n' ';' || true)"
fi

echo "$summary"
mkdir -p "$REPO_ROOT/loadtests/results"
echo "$summary" >"$REPO_ROOT/loadtests/results/gateway-overhead-$(date -u +%Y%m%dT%H%M%SZ).txt"
