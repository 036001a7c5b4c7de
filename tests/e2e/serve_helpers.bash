# Helpers for serve.bats: `oprun serve` running in the background, in a
# session of its own so a test (or teardown) can SIGKILL the supervisor
# and every executor at once with `kill -- -PGID`.  Load after helpers.
#
# Every serve a test starts is recorded in $SERVE_PIDS; serve_teardown
# stops each one (SIGTERM, then SIGKILL to its whole process group after
# a bounded wait) before oprun_teardown removes the test directory.

# use_plugins NAME...: the plugin directory holds exactly these test
# plugins (mode 644 in a mode-755 directory, as the loader requires).
use_plugins() {
	local p
	rm -f "$PLUGIN_DIR"/*.so
	for p in "$@"; do
		install -m 644 "$OPRUN_BUILD/test-plugins/$p.so" "$PLUGIN_DIR/"
	done
}

# serve_config [LINE...]: writes $CFG for serve.  LINEs land in [runner]
# until one opens a section of its own; shutdown_grace_s = 1 unless a
# LINE sets it (so stopping never takes 30 s); then tenants contoso and
# fabrikam, and [plugin record] file = $RECORD_FILE when record.so is
# installed.  Sets SERVE_EXECUTORS from an "executors = N" LINE (default
# 2, oprun's default).
serve_config() {
	local line grace=1
	SERVE_EXECUTORS=2
	for line in "$@"; do
		case $line in
		shutdown_grace_s*) grace= ;;
		executors*=*) SERVE_EXECUTORS=${line##*= } ;;
		esac
	done
	{
		printf '[store]\npath = store\ndurability = relaxed\n'
		printf '[runner]\nplugin_dir = plugins\n'
		if [ -n "$grace" ]; then
			printf 'shutdown_grace_s = 1\n'
		fi
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		printf '[tenant contoso]\n[tenant fabrikam]\n'
		if [ -f "$PLUGIN_DIR/record.so" ]; then
			printf '[plugin record]\nfile = %s\n' "$RECORD_FILE"
		fi
	} >"$CFG"
}

serve_setup() {
	oprun_setup
	SERVE_LOG="$TEST_DIR/serve.log"
	SERVE_PIDS="$TEST_DIR/serve.pids"
	RECORD_FILE="$TEST_DIR/record.txt"
	SERVE_PID=
	: >"$SERVE_PIDS"
	: >"$SERVE_LOG"
	export SERVE_LOG SERVE_PIDS RECORD_FILE
}

serve_teardown() {
	local pid i
	if [ -n "${SERVE_PIDS:-}" ] && [ -f "$SERVE_PIDS" ]; then
		while read -r pid; do
			[ -n "$pid" ] || continue
			if ours "$pid"; then
				kill -TERM "$pid" 2>/dev/null || true
				for i in $(seq 30); do
					ours "$pid" || break
					sleep 0.1
				done
			fi
			kill_group "$pid"
		done <"$SERVE_PIDS"
	fi
	# The last lines of the serve log help when a test failed.
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -s "${SERVE_LOG:-}" ]; then
		echo "--- last lines of $SERVE_LOG" >&2
		tail -n 40 "$SERVE_LOG" | cut -c1-400 >&2
	fi
	oprun_teardown
}

# alive PID: the process exists and is not a zombie.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# ours PID: PID is alive and runs with this test's config (so a PID
# reused by someone else's process is never signalled).
ours() {
	alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null |
	    grep -qF -- " -c $CFG "
}

# group_alive PGID: some process of the group runs with this test's
# config and is not a zombie.
group_alive() {
	local pid
	for pid in $(ps -e -o pid=,pgid= 2>/dev/null |
	    awk -v g="$1" '$2 == g { print $1 }'); do
		ours "$pid" && return 0
	done
	return 1
}

# kill_group PGID: SIGKILL to every process of the group (one of this
# test's serves), then waits (at most 5 s) until none is left.
kill_group() {
	local pg=$1 i
	group_alive "$pg" || return 0
	kill -KILL -- "-$pg" 2>/dev/null || true
	for i in $(seq 50); do
		group_alive "$pg" || return 0
		sleep 0.1
	done
	echo "process group $pg still has processes after SIGKILL" >&2
	return 1
}

# executors_of PID: the PIDs of serve PID's live executors, one a line.
executors_of() {
	local pid
	for pid in $(pgrep -P "$1"); do
		if alive "$pid"; then
			echo "$pid"
		fi
	done
}

# wait_executors N [TENTHS]: waits until serve has exactly N live
# executors (default 100 tenths of a second).
wait_executors() {
	local want=$1 n=${2:-100} i have=
	for i in $(seq "$n"); do
		have=$(executors_of "$SERVE_PID" | wc -l)
		[ "$have" -eq "$want" ] && return 0
		sleep 0.1
	done
	echo "serve $SERVE_PID has $have executors, expected $want" >&2
	return 1
}

# start_serve: starts `oprun serve` under setsid (its PID is its process
# group) with stdout and stderr appended to $SERVE_LOG and fd 3 closed,
# sets SERVE_PID and waits until it runs its $SERVE_EXECUTORS executors.
# Under an ASan build, ASan must not turn a plugin's SIGSEGV into an
# exit status 1: handle_segv=0 lets the signal kill the executor as in
# the plain build (every other sanitizer check stays on).
start_serve() {
	local i pgrp
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0" \
	    setsid "$OPRUN_BUILD/oprun" -c "$CFG" serve >>"$SERVE_LOG" 2>&1 3>&- &
	SERVE_PID=$!
	echo "$SERVE_PID" >>"$SERVE_PIDS"
	# setsid execs in place (a background job is no group leader): the
	# PID becomes the session and process group of oprun itself.
	for i in $(seq 100); do
		pgrp=$(awk '{ print $2 "/" $5 }' "/proc/$SERVE_PID/stat" \
		    2>/dev/null || true)
		[ "$pgrp" = "(oprun)/$SERVE_PID" ] && break
		sleep 0.05
	done
	if [ "$pgrp" != "(oprun)/$SERVE_PID" ]; then
		echo "serve $SERVE_PID did not start in its own group: $pgrp" >&2
		return 1
	fi
	for i in $(seq 150); do
		if ! alive "$SERVE_PID"; then
			echo "serve exited at start:" >&2
			cat "$SERVE_LOG" >&2
			return 1
		fi
		[ "$(executors_of "$SERVE_PID" | wc -l)" -eq "$SERVE_EXECUTORS" ] &&
		    return 0
		sleep 0.1
	done
	echo "serve did not start $SERVE_EXECUTORS executors" >&2
	return 1
}

# stop_serve [SECONDS]: SIGTERM to serve, waits up to SECONDS (default
# 10) for it to exit, SIGKILLs whatever is left of its group and sets
# SERVE_STATUS to serve's exit status.  Call it directly (not via `run`).
stop_serve() {
	local limit=${1:-10} i
	kill -TERM "$SERVE_PID" 2>/dev/null || true
	for i in $(seq $((limit * 10))); do
		alive "$SERVE_PID" || break
		sleep 0.1
	done
	kill_group "$SERVE_PID"
	SERVE_STATUS=0
	wait "$SERVE_PID" || SERVE_STATUS=$?
}

# now_ms: wall-clock milliseconds (the store's timestamps are too).
now_ms() {
	local t=$EPOCHREALTIME
	echo $(((${t%.*} * 1000000 + 10#${t#*.}) / 1000))
}

# run_ms ID FIELD: a time field of run ID (created_at, started_at,
# finished_at) in Unix milliseconds.
run_ms() {
	oprun show "$1" --json 2>/dev/null | python3 -c '
import datetime, json, sys
v = json.load(sys.stdin)[sys.argv[1]]
t = datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
t = t.replace(tzinfo=datetime.timezone.utc)
print(round(t.timestamp() * 1000))
' "$2"
}

# submit_cli TYPE TENANT PAYLOAD [ARGS...]: `oprun submit` as user alice;
# prints the new run's id, fails if submit fails.
submit_cli() {
	local type=$1 tenant=$2 payload=$3
	shift 3
	submit_id "$type" "$tenant" alice "$payload" "$@"
}

# history_reasons ID: the reasons of run ID's history events, one a line.
history_reasons() {
	oprun show "$1" --json 2>/dev/null |
	    json_eval '"\n".join(e["reason"] or "" for e in d["history"])'
}

# running_actor_pid ID: the PID of the executor that claimed run ID, from
# the "worker:PID" actor of its (last) running event.
running_actor_pid() {
	oprun show "$1" --json 2>/dev/null | json_eval '[e["actor"] for e in d["history"] if e["state"] == "running" and e["actor"].startswith("worker:")][-1].split(":")[1]'
}

# wait_log TEXT [TENTHS]: waits until $SERVE_LOG contains TEXT.
wait_log() {
	local text=$1 n=${2:-100} i
	for i in $(seq "$n"); do
		grep -qF -- "$text" "$SERVE_LOG" && return 0
		sleep 0.1
	done
	echo "serve log never showed: $text" >&2
	return 1
}
