#!/usr/bin/env bash
# bench/run.sh: Switchboard's load benchmark. See docs/performance.md.
#
# Builds switchboard, sbload and baseline into a temporary directory, starts
# a fresh Switchboard (temporary --data, HTTP only, answerDelay 0s, log level
# warn) and the bare baseline on free loopback ports, then runs:
#
#   baseline-get     sbload get against the baseline
#   switchboard-get  sbload get against Switchboard (pre-creates CALLS calls)
#   switchboard-list sbload list (REPEAT×CALLS live calls; first page of 100)
#   switchboard-create  sbload create, closed loop
#   established      sbload established, fixed rate
#
# and prints a table, the GET/baseline ratio and the verdict on each target.
# It is not part of the test command. Everything it starts is stopped, and
# its temporary directory removed, on exit.
#
# Environment (defaults in brackets):
#   DURATION [10s]   measured time of each run     WARMUP [2s]
#   GET_C [16]       GET/list workers              CREATE_C [32]  create workers
#   LIST_C [4]       list workers                  CALLS [1000]   calls pre-created for get
#   EST_RATE [200]   established: calls per second EST_C [16]     established: most in flight
#   REPEAT [1]       baseline/Switchboard GET pairs, interleaved
#   OUT [unset]      also copy the JSON lines to this file
#
# bench/run.sh --sweep instead runs GET (both servers) at each of SWEEP_C
# [1 4 16 64] workers and create at each of SWEEP_CREATE_C [16 64 128 256],
# to choose the concurrencies.
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
GET_C=${GET_C:-16}
LIST_C=${LIST_C:-4}
CREATE_C=${CREATE_C:-32}
CALLS=${CALLS:-1000}
EST_RATE=${EST_RATE:-200}
EST_C=${EST_C:-16}
REPEAT=${REPEAT:-1}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sbbench.XXXXXX")
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# Bounded: a server that ignores SIGTERM for 10 s is killed.
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

# free_port prints a loopback port nothing is listening on. Another process
# may take it before the server binds; start_switchboard checks for that.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_ready polls url until it answers 200, for at most 20 s, and fails
# early if the process pid exits (a port taken by someone else, a bad config).
wait_ready() {
	local url=$1 pid=$2
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 1
		if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# busy prints how busy the CPUs were over the last 0.5 s, in percent: what
# other processes take from the benchmark just before a run.
busy() {
	local a b
	read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
	sleep 0.5
	read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
	a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8))
	b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8))
	echo $((100 - 100 * (b4 + b5 - a4 - a5) / (b - a + (b == a))))
}

command -v curl >/dev/null || { log "run.sh needs curl"; exit 1; }

log "building into $tmp/bin"
mkdir -p "$tmp/bin" "$tmp/data"
(cd "$repo" && go build -o "$tmp/bin/" ./cmd/switchboard ./bench/cmd/sbload ./bench/cmd/baseline)

cat >"$tmp/switchboard.yaml" <<EOF
logLevel: warn
simulation:
  answerDelay: 0s
EOF

start_switchboard() {
	local port pid
	for _ in 1 2 3; do
		port=$(free_port)
		"$tmp/bin/switchboard" serve --listen "127.0.0.1:$port" --listen-tls off \
			--data "$tmp/data" --config "$tmp/switchboard.yaml" --log-level warn \
			>"$tmp/switchboard.log" 2>&1 &
		pid=$!
		pids+=("$pid")
		if wait_ready "http://127.0.0.1:$port/switchboard/v1/ready" "$pid"; then
			SB="http://127.0.0.1:$port"
			SB_PID=$pid
			return 0
		fi
		log "switchboard did not become ready on port $port:"
		tail -5 "$tmp/switchboard.log" >&2 || true
		kill "$pid" 2>/dev/null || true
	done
	return 1
}

start_baseline() {
	"$tmp/bin/baseline" -listen 127.0.0.1:0 -addr-file "$tmp/baseline.addr" >"$tmp/baseline.log" 2>&1 &
	BL_PID=$!
	pids+=("$BL_PID")
	for _ in $(seq 100); do
		[[ -s $tmp/baseline.addr ]] && break
		sleep 0.1
	done
	[[ -s $tmp/baseline.addr ]] || { log "baseline did not start"; cat "$tmp/baseline.log" >&2; return 1; }
	BL="http://$(cat "$tmp/baseline.addr")"
	wait_ready "$BL/switchboard/v1/ready" "$BL_PID"
}

start_switchboard || { log "could not start switchboard"; exit 1; }
start_baseline
log "switchboard $SB (pid $SB_PID), baseline $BL (pid $BL_PID); $(nproc) CPUs, $(go version)"

results=$tmp/results.jsonl
# sbload_run LABEL ARGS...: one bounded sbload run, its JSON line appended to
# the results.
sbload_run() {
	local label=$1
	shift
	log ""
	log "-- $label (CPUs $(busy)% busy just before the run)"
	timeout 300 "$tmp/bin/sbload" -label "$label" -d "$DURATION" -warmup "$WARMUP" "$@" >>"$results"
}

if [[ ${1:-} == --sweep ]]; then
	# Concurrency sweep, to choose GET_C and CREATE_C: the smallest
	# concurrency past which throughput stops growing saturates the CPUs.
	for c in ${SWEEP_C:-1 4 16 64}; do
		sbload_run "baseline-get-c$c" -mode get -target "$BL" -c "$c" -n "$CALLS"
		sbload_run "switchboard-get-c$c" -mode get -target "$SB" -c "$c" -n "$CALLS"
	done
	for c in ${SWEEP_CREATE_C:-16 64 128 256}; do
		sbload_run "switchboard-create-c$c" -mode create -target "$SB" -c "$c"
	done
	echo
	"$tmp/bin/sbload" -report "$results"
	[[ -n ${OUT:-} ]] && cp "$results" "$OUT"
	exit 0
fi

# GET pairs are interleaved so that a change in the machine's background
# load hits both sides alike. Only the last pair's labels are the canonical
# ones the ratio is computed from; earlier pairs get a numeric suffix.
for i in $(seq "$REPEAT"); do
	suffix=""
	[[ $i -lt $REPEAT ]] && suffix="-$i"
	sbload_run "baseline-get$suffix" -mode get -target "$BL" -c "$GET_C" -n "$CALLS"
	# Each pair creates CALLS more live calls: the list run sees REPEAT×CALLS.
	sbload_run "switchboard-get$suffix" -mode get -target "$SB" -c "$GET_C" -n "$CALLS"
done
kill "$BL_PID" 2>/dev/null || true

sbload_run switchboard-list -mode list -target "$SB" -c "$LIST_C"
sbload_run switchboard-create -mode create -target "$SB" -c "$CREATE_C"
sbload_run established -mode established -target "$SB" -rate "$EST_RATE" -c "$EST_C"

kill "$SB_PID" 2>/dev/null || true
if [[ -s $tmp/switchboard.log ]]; then
	log ""
	log "switchboard log (warnings and errors, last 10 lines):"
	tail -10 "$tmp/switchboard.log" >&2
fi

echo
"$tmp/bin/sbload" -report "$results"
[[ -n ${OUT:-} ]] && cp "$results" "$OUT"
exit 0
