#!/usr/bin/env bash
# bench/run.sh: Switchboard's load benchmark. See docs/performance.md.
#
# Builds switchboard, sbload and baseline into a temporary directory, starts
# the bare baseline and, for each Switchboard run, a fresh Switchboard
# (empty temporary --data, HTTP only, answerDelay 0s, log level warn) on free
# loopback ports, then runs:
#
#   baseline-get     sbload get against the baseline
#   switchboard-get  sbload get against Switchboard (pre-creates CALLS calls)
#   switchboard-list sbload list (pre-creates CALLS calls; first page of 100)
#   switchboard-create  sbload create, closed loop
#   established      sbload established, fixed rate
#   idle             sbload idle: IDLE_CALLS established calls, then nothing
#                    at all; the server's CPU and memory
#   media            sbload media: MEDIA_CALLS calls, each with a recordResponse
#                    (a prompt of WARMUP + DURATION/2, then a recorder); the
#                    server's CPU and its media engine's skipped frames
#
# and, with SIP=1 (or only these, with --sip; they need sipp):
#
#   sip-out-simulated  sbload sip-out to a simulated user: the most calls of
#                    SIP_CALLS, placed at SIP_RATE/s, a recordResponse on
#                    each; the baseline: the same requests and media, no SIP
#   sip-out-N        for each N in SIP_CALLS: the same to a user bound to a
#                    fresh "sipp -sn uas -rtp_echo" (a static contact), so
#                    that every call is a SIP leg whose RTP sipp echoes back
#
# and, with CLUSTER=1 (or only these, with --cluster; they need PostgreSQL's
# server programs, Debian's postgresql package), against a throwaway
# PostgreSQL server the script starts in its temporary directory:
#
#   {sqlite,pg1,pg3}-{get,create,established}
#                    sbload get, create and established, each against one
#                    Switchboard on SQLite (as above), one node on
#                    PostgreSQL, and CLUSTER_NODES nodes on PostgreSQL with
#                    sbload's requests spread over them round-robin; the
#                    nodes' CPU summed, PostgreSQL's apart, and PostgreSQL's
#                    transactions, write transactions, rows written and WAL
#                    bytes over the window (pg_stat_database)
#   failover-TTL-I   FAILOVER_RUNS times for each TTL of FAILOVER_TTLS: three
#                    nodes with --lease-ttl TTL, FAILOVER_CALLS calls created
#                    through the first and established, then sbload kills
#                    that node (SIGKILL) and times the first callback from
#                    the node that takes the calls over, and the first GET
#                    served through another node
#
# and, with STREAM=1 (or only these, with --stream):
#
#   stream-N-service for each N in STREAM_CALLS, the baseline: sbload stream
#                    -service-hosted, N calls to a simulated user with
#                    service-hosted media, each callee saying a long
#                    speech-like WAV, STREAM_PROBES probe says a call, no bots
#   stream-N         the same calls with app-hosted media: a bot in sbload
#                    on each call's media stream (a WebSocket) reads
#                    everything and echoes every frame of the mix back as
#                    its voice; the frames each bot got, sequence gaps, and
#                    the latency from a callee's burst (a probe's say) to
#                    its bot
#
# and prints a table, the GET/baseline ratio and the verdict on each target.
# The idle and media servers also serve Prometheus metrics on another free
# loopback port (--metrics-listen), which sbload reads at both ends of the
# window for the media engine's figures; a server without that flag gets
# CPU and memory figures only.
# It is not part of the test command. Everything it starts is stopped, and
# its temporary directory removed, on exit.
#
# Environment (defaults in brackets):
#   DURATION [10s]   measured time of each run     WARMUP [2s]
#   GET_C [32]       GET workers                   CREATE_C [64]  create workers
#   LIST_C [4]       list workers                  CALLS [1000]   calls pre-created for get
#   EST_RATE [200]   established: calls per second EST_C [16]     established: most in flight
#   IDLE_CALLS [10000] idle: calls held      MEDIA_CALLS [1000] media: calls held
#   REPEAT [1]       baseline/Switchboard GET pairs, interleaved
#   OUT [unset]      also copy the JSON lines to this file
#   SB_REV [unset]   build Switchboard from this git revision (git archive)
#                    instead of the working tree
#   SIP [unset]      1: the SIP runs too, after the others
#   SIP_CALLS ["250 500 1000"] sip-out: the calls of each SIP run
#   SIP_RATE [100]   sip-out: calls placed per second   SIP_C [64] most creates in flight
#   SIP_RTP_PORTS [20000-29999] the servers' sip.rtpPorts (one port a call)
#   CLUSTER [unset]  1: the cluster runs too, after the others
#   CLUSTER_NODES [3] nodes of the pg3 runs (the label stays pg3)
#   FAILOVER_CALLS [50] FAILOVER_RUNS [2] FAILOVER_TTLS ["15s 3s"]
#   FAILOVER_HANGUP [1s] failover: the callee's hangUpAfter, shorter than
#                    two thirds of the least TTL (see docs/performance.md)
#   STREAM [unset]   1: the stream runs too, after the others
#   STREAM_CALLS ["100 200 300 400"] stream: the calls of each pair of runs
#   STREAM_C [32]    stream: workers that set the calls up and send the probes
#   STREAM_PROBES [3] stream: latency probes a call in the window
#
# bench/run.sh --sweep instead runs GET (both servers) at each of SWEEP_C
# [1 4 16 64] workers and create at each of SWEEP_CREATE_C [16 64 128 256],
# to choose the concurrencies.
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
GET_C=${GET_C:-32}
LIST_C=${LIST_C:-4}
CREATE_C=${CREATE_C:-64}
CALLS=${CALLS:-1000}
EST_RATE=${EST_RATE:-200}
EST_C=${EST_C:-16}
REPEAT=${REPEAT:-1}
IDLE_CALLS=${IDLE_CALLS:-10000}
MEDIA_CALLS=${MEDIA_CALLS:-1000}
SIP_CALLS=${SIP_CALLS:-250 500 1000}
SIP_RATE=${SIP_RATE:-100}
SIP_C=${SIP_C:-64}
SIP_RTP_PORTS=${SIP_RTP_PORTS:-20000-29999}
CLUSTER_NODES=${CLUSTER_NODES:-3}
FAILOVER_CALLS=${FAILOVER_CALLS:-50}
FAILOVER_RUNS=${FAILOVER_RUNS:-2}
FAILOVER_TTLS=${FAILOVER_TTLS:-15s 3s}
FAILOVER_HANGUP=${FAILOVER_HANGUP:-1s}
STREAM_CALLS=${STREAM_CALLS:-100 200 300 400}
STREAM_C=${STREAM_C:-32}
STREAM_PROBES=${STREAM_PROBES:-3}
# The simulated person the failover calls go to: answers at once, hangs up
# FAILOVER_HANGUP later.
FAILOVER_CALLEE=failover-person
# The user the SIP runs call, bound to sipp by a static contact.
SIP_CALLEE=5b0e0000-0000-4000-8000-00000000e001
sip_only=""
[[ ${1:-} == --sip ]] && sip_only=yes
cluster_only=""
[[ ${1:-} == --cluster ]] && cluster_only=yes
stream_only=""
[[ ${1:-} == --stream ]] && stream_only=yes
if [[ -n $sip_only || ${SIP:-} == 1 ]]; then
	command -v sipp >/dev/null || { printf 'the SIP runs need sipp (Debian: sip-tester)\n' >&2; exit 1; }
fi

# PostgreSQL's server programs, for the cluster runs: Debian's newest
# /usr/lib/postgresql/*/bin, or else initdb on the PATH.
PG_BIN=""
if [[ -n $cluster_only || ${CLUSTER:-} == 1 ]]; then
	PG_BIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
	if [[ -z $PG_BIN || ! -x $PG_BIN/initdb ]]; then
		PG_BIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
	fi
	[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] || { printf 'the cluster runs need PostgreSQL (Debian: postgresql)\n' >&2; exit 1; }
	if [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then
		printf 'running as root, the cluster runs need a postgres user to run PostgreSQL as\n' >&2
		exit 1
	fi
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sbbench.XXXXXX")
pids=()
# The PostgreSQL server's data directory once started (pg_start), and the
# command prefix that runs its programs as the postgres user when this
# script runs as root.
PG_DATA=""
as_pg=()

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
	if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
		"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
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
mkdir -p "$tmp/bin"
(cd "$repo" && go build -o "$tmp/bin/" ./bench/cmd/sbload ./bench/cmd/baseline)
if [[ -n ${SB_REV:-} ]]; then
	# A committed revision, exported without touching the working tree.
	mkdir -p "$tmp/src"
	git -C "$repo" archive --format=tar "$SB_REV" | tar -x -C "$tmp/src"
	(cd "$tmp/src" && go build -o "$tmp/bin/" ./cmd/switchboard)
	log "switchboard built from $SB_REV ($(git -C "$repo" rev-parse --short "$SB_REV"))"
else
	(cd "$repo" && go build -o "$tmp/bin/" ./cmd/switchboard)
	log "switchboard built from the working tree at $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
fi

# Throttling is off and the open-call quota out of reach: the benchmark is
# one application doing far more than Graph's 50,000 requests per 15 s and
# keeping every call it creates.
cat >"$tmp/switchboard.yaml" <<EOF
logLevel: warn
simulation:
  answerDelay: 0s
calls:
  maxOpenCallsPerApp: 100000000
throttle:
  requests: 0
EOF

# Does this switchboard serve Prometheus metrics on a listener of its own?
# (Not a pipe into grep -q: with pipefail, the server's SIGPIPE when grep
# stops reading early would read as "no".)
metrics_flag=""
serve_help=$("$tmp/bin/switchboard" serve -h 2>&1 || true)
if [[ $serve_help == *-metrics-listen* ]]; then
	metrics_flag=yes
fi
# A server with SIP would take 127.0.0.1:5060 in development mode: the runs
# without SIP turn it off, so that whatever else uses that port cannot stop
# them.
SB_SIP=()
if [[ $serve_help == *-sip-listen* ]]; then
	SB_SIP=(--sip-listen off)
elif [[ -n $sip_only || ${SIP:-} == 1 ]]; then
	log "this switchboard has no --sip-listen: no SIP runs"
	exit 1
fi
SB_CONFIG=$tmp/switchboard.yaml
if [[ -n $cluster_only || ${CLUSTER:-} == 1 ]] && [[ $serve_help != *-lease-ttl* ]]; then
	log "this switchboard has no --store, --node-name and --lease-ttl: no cluster runs"
	exit 1
fi

# start_switchboard [metrics] starts a Switchboard with an empty data
# directory, SB_DATA, and sets SB and SB_PID, and with "metrics" (when the
# server has --metrics-listen) SB_METRICS, its /metrics URL;
# stop_switchboard stops it and removes SB_DATA. Every Switchboard run gets
# a fresh server, so that calls left by one run (each live call costs the
# server something) do not weigh on the next. SB_NODE holds more flags: a
# PostgreSQL store and a node's (start_nodes).
sb_n=0
SB_NODE=()
start_switchboard() {
	local port mport pid extra
	sb_n=$((sb_n + 1))
	SB_METRICS=""
	SB_DATA=$tmp/data-$sb_n
	for _ in 1 2 3; do
		port=$(free_port)
		extra=()
		if [[ ${1:-} == metrics && -n $metrics_flag ]]; then
			mport=$(free_port)
			extra=(--metrics-listen "127.0.0.1:$mport")
		fi
		rm -rf "$SB_DATA"
		mkdir -p "$SB_DATA"
		"$tmp/bin/switchboard" serve --listen "127.0.0.1:$port" --listen-tls off \
			--data "$SB_DATA" --config "$SB_CONFIG" --log-level warn "${SB_SIP[@]}" "${SB_NODE[@]}" "${extra[@]}" \
			>"$tmp/switchboard-$sb_n.log" 2>&1 &
		pid=$!
		pids+=("$pid")
		if wait_ready "http://127.0.0.1:$port/switchboard/v1/ready" "$pid"; then
			SB="http://127.0.0.1:$port"
			SB_PID=$pid
			if [[ ${#extra[@]} -gt 0 ]]; then
				SB_METRICS="http://127.0.0.1:$mport/metrics"
			fi
			return 0
		fi
		log "switchboard did not become ready on port $port:"
		tail -5 "$tmp/switchboard-$sb_n.log" >&2 || true
		kill "$pid" 2>/dev/null || true
	done
	return 1
}

# stop_pid PID: TERM, up to 10 s to exit, then KILL; and forget it, so
# that cleanup never signals a recycled process id.
stop_pid() {
	local p kept=()
	kill "$1" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${pids[@]}"; do
		[[ $p == "$1" ]] || kept+=("$p")
	done
	pids=("${kept[@]}")
}

stop_switchboard() {
	stop_pid "$SB_PID"
	rm -rf "$SB_DATA"
}

# sb_run LABEL ARGS...: sbload_run against a fresh Switchboard.
sb_run() {
	local label=$1
	shift
	start_switchboard || { log "could not start switchboard"; exit 1; }
	sbload_run "$label" -target "$SB" -server-pid "$SB_PID" "$@"
	stop_switchboard
}

# sb_hold_run LABEL ARGS...: sbload_run of idle, media, sip-out or stream
# mode against a fresh Switchboard that serves metrics.
sb_hold_run() {
	local label=$1
	shift
	start_switchboard metrics || { log "could not start switchboard"; exit 1; }
	local metrics=()
	if [[ -n $SB_METRICS ]]; then
		metrics=(-metrics "$SB_METRICS")
	else
		log "this switchboard has no --metrics-listen: $label reports CPU and memory only"
	fi
	# A revision from before these modes (SB_REV) may not support them: the
	# other figures are still reported, and the script fails at the end.
	if ! sbload_run "$label" -target "$SB" -server-pid "$SB_PID" "${metrics[@]}" "$@"; then
		log "$label: sbload failed; no figures"
		failed+=("$label")
	fi
	stop_switchboard
}
failed=()

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

# start_sipp starts "sipp -sn uas -rtp_echo" on free loopback ports, under
# timeout -k, and sets SIPP_PORT, SIPP_PID (sipp's own process id, for its
# CPU) and SIPP_TIMEOUT_PID; stop_sipp stops it. sipp answers each INVITE
# (180, then 200 with an SDP of PCMU on its one media port), echoes every
# RTP datagram to where it came from, and answers BYE. All calls share
# sipp's one media socket, where 1,000 legs' packets of a 20 ms tick
# arrive at once (each phone of a real deployment has its own): its
# buffer is raised to 4 MB (-rtp_buffsize; net.core.rmem_max bounds it),
# or sipp's own socket drops them, which is not Switchboard's loss.
sipp_n=0
start_sipp() {
	local port mport tpid
	sipp_n=$((sipp_n + 1))
	for _ in 1 2 3; do
		port=$(free_port)
		mport=$(free_port)
		# sipp draws a screen on a terminal: no stdin, output to a file. It
		# has once ignored a plain timeout's SIGTERM, hence -k.
		(cd "$tmp" && exec timeout -k 3 600 sipp -sn uas -rtp_echo -i 127.0.0.1 -p "$port" \
			-mi 127.0.0.1 -mp "$mport" -rtp_buffsize 4194304 </dev/null >"$tmp/sipp-$sipp_n.log" 2>&1) &
		tpid=$!
		pids+=("$tpid")
		sleep 0.5
		SIPP_PID=$(pgrep -P "$tpid" -x sipp || true)
		if [[ -n $SIPP_PID ]] && kill -0 "$SIPP_PID" 2>/dev/null; then
			SIPP_PORT=$port
			SIPP_TIMEOUT_PID=$tpid
			return 0
		fi
		log "sipp did not start on ports $port/$mport:"
		tail -5 "$tmp/sipp-$sipp_n.log" >&2 || true
		kill "$tpid" 2>/dev/null || true
	done
	return 1
}

# timeout passes the TERM on to sipp, and kills it 3 s later if it is
# still there.
stop_sipp() { stop_pid "$SIPP_TIMEOUT_PID"; }

# sip_config PORT writes the configuration of a SIP run, the usual one plus
# the RTP port range and SIP_CALLEE bound to a sipp on PORT, and makes it
# the servers'.
sip_config() {
	cat "$tmp/switchboard.yaml" - >"$tmp/switchboard-sip.yaml" <<EOF
sip:
  rtpPorts: $SIP_RTP_PORTS
  contacts:
    - user: $SIP_CALLEE
      uri: sip:echo@127.0.0.1:$1
EOF
	SB_CONFIG=$tmp/switchboard-sip.yaml
}

# sip_runs runs the baseline and the SIP runs. Every server of these has SIP
# on a free loopback port (the baseline's too, so that the servers differ
# only in where the calls go).
sip_runs() {
	local n max=0 saved=("${SB_SIP[@]}")
	for n in $SIP_CALLS; do ((n > max)) && max=$n; done
	sip_config 9 # nothing there: the baseline calls a simulated user
	SB_SIP=(--sip-listen "127.0.0.1:$(free_port)")
	sb_hold_run sip-out-simulated -mode sip-out -callee alice -n "$max" -rate "$SIP_RATE" -c "$SIP_C"
	for n in $SIP_CALLS; do
		start_sipp || { log "could not start sipp"; exit 1; }
		sip_config "$SIPP_PORT"
		SB_SIP=(--sip-listen "127.0.0.1:$(free_port)")
		sb_hold_run "sip-out-$n" -mode sip-out -callee "$SIP_CALLEE" -n "$n" -rate "$SIP_RATE" -c "$SIP_C" -peer-pid "$SIPP_PID"
		stop_sipp
	done
	SB_SIP=("${saved[@]}")
	SB_CONFIG=$tmp/switchboard.yaml
}

# stream_runs runs the stream runs: for each N of STREAM_CALLS, the
# service-hosted baseline and then the app-hosted calls with their bots,
# one after the other, so that a change in the machine's background load
# hits both alike. Each gets a fresh server that serves metrics.
stream_runs() {
	local n
	for n in $STREAM_CALLS; do
		sb_hold_run "stream-$n-service" -mode stream -service-hosted -n "$n" -c "$STREAM_C" -probes "$STREAM_PROBES"
		sb_hold_run "stream-$n" -mode stream -n "$n" -c "$STREAM_C" -probes "$STREAM_PROBES"
	done
}

# pg_start initialises and starts the PostgreSQL server of the cluster runs
# in $tmp/pg, on a free loopback port, and sets PG_DATA, PG_PORT and PG_PID
# (the postmaster's). It keeps PostgreSQL's defaults (fsync, full page
# writes, synchronous_commit on: every acknowledged commit is on disk, as
# SQLite's synchronous=FULL) but for where it listens and max_connections,
# which leaves room for several nodes' pools. When the script runs as root,
# the server runs as the postgres user, which then owns $tmp/pg and may
# pass through $tmp. The cleanup trap stops it.
pg_start() {
	local dir=$tmp/pg attempt
	mkdir -p "$dir"
	if [[ $(id -u) == 0 ]]; then
		chmod 711 "$tmp"
		chown postgres: "$dir"
		as_pg=(runuser -u postgres --)
	fi
	if ! "${as_pg[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1; then
		log "initdb failed:"
		tail -20 "$tmp/initdb.log" >&2
		exit 1
	fi
	PG_DATA=$dir/data
	cat >>"$PG_DATA/postgresql.conf" <<EOF

# bench/run.sh: PostgreSQL's defaults, but for these
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
EOF
	for attempt in 1 2 3; do
		PG_PORT=$(free_port)
		if "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$dir/postgres-$attempt.log" -w -t 60 -o "-p $PG_PORT" start >/dev/null; then
			PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
			return 0
		fi
		log "PostgreSQL did not start on port $PG_PORT:"
		tail -5 "$dir/postgres-$attempt.log" >&2 || true
		"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	done
	exit 1
}

# pg_url DB is the URL of database DB for the servers and psql.
pg_url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1?sslmode=disable"; }

# pg_query DB SQL runs SQL on database DB and prints the rows, unaligned.
pg_query() {
	timeout 120 "$PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -d "$(pg_url "$1")" -c "$2"
}

# What sbload reads at both ends of a PostgreSQL run's window (-window-cmd),
# as name=value counters of the run's database: its transactions
# committed and rolled back (each autocommit statement and each pgx batch
# is one; the backends report them up to a second late), write
# transactions (xids assigned, exact and at once, for the whole server),
# rows inserted, updated and deleted, and WAL bytes (the whole server's).
PG_COUNTERS_SQL="SELECT 'xacts=' || (xact_commit + xact_rollback) || ' write_xacts=' || pg_snapshot_xmax(pg_current_snapshot()) || ' rows_written=' || (tup_inserted + tup_updated + tup_deleted) || ' wal_bytes=' || pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') FROM pg_stat_database WHERE datname = current_database()"

# start_nodes N TTL starts N Switchboard nodes (--lease-ttl TTL) on a fresh
# database of their own, and sets NODE_URLS, NODE_PIDS, NODE_DATA and
# CL_DB; stop_nodes stops them all at once and drops the database.
pg_db_n=0
start_nodes() {
	local i
	pg_db_n=$((pg_db_n + 1))
	CL_DB=sb_$pg_db_n
	pg_query postgres "CREATE DATABASE $CL_DB" >/dev/null
	NODE_URLS=() NODE_PIDS=() NODE_DATA=()
	for i in $(seq "$1"); do
		SB_NODE=(--store "$(pg_url "$CL_DB")" --node-name "node$i" --lease-ttl "$2")
		start_switchboard || { log "could not start node $i"; exit 1; }
		NODE_URLS+=("$SB") NODE_PIDS+=("$SB_PID") NODE_DATA+=("$SB_DATA")
	done
	SB_NODE=()
}

stop_nodes() {
	local pid
	# All at once: a node stopped alone drains, and the others would
	# adopt its calls.
	for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
	rm -rf "${NODE_DATA[@]}"
	pg_query postgres "DROP DATABASE IF EXISTS $CL_DB WITH (FORCE)" >/dev/null
}

# pg_run N LABEL ARGS...: sbload_run against N fresh nodes on a fresh
# database (default lease TTL), the requests spread over the nodes.
pg_run() {
	local n=$1 label=$2 counters
	shift 2
	start_nodes "$n" 15s
	counters=$(printf '%q ' "$PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -d "$(pg_url "$CL_DB")" -c "$PG_COUNTERS_SQL")
	sbload_run "$label" -target "$(IFS=,; echo "${NODE_URLS[*]}")" -server-pid "$(IFS=,; echo "${NODE_PIDS[*]}")" \
		-db-pid "$PG_PID" -window-cmd "$counters" "$@"
	stop_nodes
}

# cluster_runs: the cluster runs. Each mode runs against SQLite, one node
# and CLUSTER_NODES nodes in a row, so that a change in the machine's
# background load hits the three alike.
cluster_runs() {
	local mode ttl i args
	pg_start
	log "PostgreSQL $("$PG_BIN/postgres" --version | grep -o '[0-9][0-9.]*' | head -1) on 127.0.0.1:$PG_PORT (postmaster $PG_PID):" \
		"$(pg_query postgres "SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections')")"
	for mode in get create established; do
		case $mode in
		get) args=(-mode get -c "$GET_C" -n "$CALLS") ;;
		create) args=(-mode create -c "$CREATE_C") ;;
		established) args=(-mode established -rate "$EST_RATE" -c "$EST_C") ;;
		esac
		sb_run "sqlite-$mode" "${args[@]}"
		pg_run 1 "pg1-$mode" "${args[@]}"
		pg_run "$CLUSTER_NODES" "pg3-$mode" "${args[@]}"
	done
	# The failover runs' callee answers at once and hangs up
	# FAILOVER_HANGUP later: a hang-up that falls due while its call has no
	# owner, which the new owner fires (and notifies) when it takes the
	# call over.
	cat >"$tmp/switchboard-failover.yaml" <<EOF
logLevel: warn
simulation:
  answerDelay: 0s
  identities:
    - {id: $FAILOVER_CALLEE, hangUpAfter: $FAILOVER_HANGUP}
calls:
  maxOpenCallsPerApp: 100000000
throttle:
  requests: 0
EOF
	SB_CONFIG=$tmp/switchboard-failover.yaml
	for ttl in $FAILOVER_TTLS; do
		for i in $(seq "$FAILOVER_RUNS"); do
			start_nodes 3 "$ttl"
			if ! sbload_run "failover-$ttl-$i" -mode failover -target "$(IFS=,; echo "${NODE_URLS[*]}")" \
				-kill-pid "${NODE_PIDS[0]}" -callee "$FAILOVER_CALLEE" -n "$FAILOVER_CALLS" -c 16; then
				log "failover-$ttl-$i: sbload failed; no figures"
				failed+=("failover-$ttl-$i")
			fi
			stop_nodes
		done
	done
	SB_CONFIG=$tmp/switchboard.yaml
}

if [[ -z $sip_only && -z $cluster_only && -z $stream_only ]]; then
	start_baseline
	log "baseline $BL (pid $BL_PID); $(nproc) CPUs, $(go version)"
fi

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

if [[ -n $cluster_only ]]; then
	log "$(nproc) CPUs, $(go version)"
	cluster_runs
	log ""
	log "switchboard logs (warnings and errors, last 3 lines of each):"
	for f in "$tmp"/switchboard-*.log; do
		grep -v 'development mode\|applied migration' "$f" | tail -3 >&2 || true
	done
	echo
	"$tmp/bin/sbload" -report "$results"
	[[ -n ${OUT:-} ]] && cp "$results" "$OUT"
	if [[ ${#failed[@]} -gt 0 ]]; then
		echo "no result, sbload failed (see above): ${failed[*]}"
		exit 1
	fi
	exit 0
fi

if [[ -n $stream_only ]]; then
	log "$(nproc) CPUs, $(go version)"
	stream_runs
	log ""
	log "switchboard logs (warnings and errors, last 3 lines of each):"
	for f in "$tmp"/switchboard-*.log; do
		grep -v 'development mode\|applied migration' "$f" | tail -3 >&2 || true
	done
	echo
	"$tmp/bin/sbload" -report "$results"
	[[ -n ${OUT:-} ]] && cp "$results" "$OUT"
	if [[ ${#failed[@]} -gt 0 ]]; then
		echo "no result, sbload failed (see above): ${failed[*]}"
		exit 1
	fi
	exit 0
fi

if [[ -n $sip_only ]]; then
	# sipp -v exits non-zero: no pipefail on it.
	log "$(nproc) CPUs, $(go version), $({ sipp -v 2>&1 || true; } | grep -o 'SIPp v[^ ]*' | head -1)"
	sip_runs
	echo
	"$tmp/bin/sbload" -report "$results"
	[[ -n ${OUT:-} ]] && cp "$results" "$OUT"
	if [[ ${#failed[@]} -gt 0 ]]; then
		echo "no result, sbload failed (see above): ${failed[*]}"
		exit 1
	fi
	exit 0
fi

if [[ ${1:-} == --sweep ]]; then
	# Concurrency sweep, to choose GET_C and CREATE_C: the smallest
	# concurrency past which throughput stops growing saturates the CPUs.
	for c in ${SWEEP_C:-1 4 16 64}; do
		sbload_run "baseline-get-c$c" -mode get -target "$BL" -server-pid "$BL_PID" -c "$c" -n "$CALLS"
		sb_run "switchboard-get-c$c" -mode get -c "$c" -n "$CALLS"
	done
	for c in ${SWEEP_CREATE_C:-16 64 128 256}; do
		sb_run "switchboard-create-c$c" -mode create -c "$c"
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
	sbload_run "baseline-get$suffix" -mode get -target "$BL" -server-pid "$BL_PID" -c "$GET_C" -n "$CALLS"
	sb_run "switchboard-get$suffix" -mode get -c "$GET_C" -n "$CALLS"
done
kill "$BL_PID" 2>/dev/null || true

sb_run switchboard-list -mode list -c "$LIST_C" -n "$CALLS"
sb_run switchboard-create -mode create -c "$CREATE_C"
sb_run established -mode established -rate "$EST_RATE" -c "$EST_C"
# Calls are created by CREATE_C workers; then nothing is sent during the
# window, so the concurrency does not weigh on the figures.
sb_hold_run idle -mode idle -n "$IDLE_CALLS" -c "$CREATE_C"
sb_hold_run media -mode media -n "$MEDIA_CALLS" -c "$CREATE_C"
if [[ ${SIP:-} == 1 ]]; then
	sip_runs
fi
if [[ ${CLUSTER:-} == 1 ]]; then
	cluster_runs
fi
if [[ ${STREAM:-} == 1 ]]; then
	stream_runs
fi

log ""
log "switchboard logs (warnings and errors, last 3 lines of each):"
for f in "$tmp"/switchboard-*.log; do
	grep -v 'development mode\|applied migration' "$f" | tail -3 >&2 || true
done

echo
"$tmp/bin/sbload" -report "$results"
[[ -n ${OUT:-} ]] && cp "$results" "$OUT"
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "no result, sbload failed (see above): ${failed[*]}"
	exit 1
fi
exit 0
