#!/usr/bin/env bats
# A stalled executor never freezes the others: the supervisor's watchdog
# sees a missed heartbeat, kills the executor (which releases the store's
# writer lock) and resolves its run with a reason naming the stall.

load helpers
load serve_helpers

setup() {
	serve_setup
}

teardown() {
	# A stopped process cannot act on SIGTERM: let it go first.
	pkill -CONT -f -- "-c $CFG" 2>/dev/null || true
	serve_teardown
}

@test "a stopped busy executor is killed within the bound and its run resolved with the stall" {
	serve_config "stall_timeout_s = 1" "executors = 1"
	start_serve
	id=$(submit_cli test-slow contoso '{"seconds":30}')
	wait_state "$id" running
	pid=$(running_actor_pid "$id")
	kill -STOP "$pid"
	wait_state "$id" failed 60
	reason=$(run_field "$id" reason)
	[[ "$reason" == *"executor $pid stalled: no heartbeat for"* ]]
	wait_log "executor $pid ended: executor $pid stalled"
	# A new executor took its place and runs what comes next.
	wait_executors 1
	id2=$(submit_cli test-instant contoso '{}')
	wait_state "$id2" succeeded
	assert_store_ok
}

@test "an idle executor that stops is killed and replaced" {
	serve_config "stall_timeout_s = 1" "executors = 1"
	start_serve
	pid=$(executors_of "$SERVE_PID")
	kill -STOP "$pid"
	wait_log "executor $pid ended: executor $pid stalled" 60
	wait_executors 1
	id=$(submit_cli test-instant contoso '{}')
	wait_state "$id" succeeded
}

# read_now CMD...: the read command answers within 2 s.
read_now() {
	timeout 2 "$OPRUN_BUILD/oprun" -c "$CFG" "$@" >/dev/null
}

@test "stopping executors at random moments under submits never blocks a reader, and writers resume within the bound" {
	serve_config "stall_timeout_s = 2" "executors = 2"
	start_serve
	first=$(submit_cli test-instant contoso '{"first":1}')
	"$OPRUN_BUILD/tools/submit_storm" -c "$CFG" --type test-instant \
	    --count 0 >"$TEST_DIR/storm.out" 2>&1 3>&- &
	storm=$!
	echo "$storm" >>"$PIDS_FILE"
	for round in $(seq 8); do
		pid=$(executors_of "$SERVE_PID" | shuf -n 1)
		[ -n "$pid" ] || { sleep 0.2; continue; }
		sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
		kill -STOP "$pid"
		# Readers answer at once, whatever the stopped one held.
		read_now runs --limit 5
		read_now show "$first"
		read_now notifications --user alice
		# A writer is served again within the bound (2 s) plus slack.
		t0=$(now_ms)
		run timeout 8 "$OPRUN_BUILD/oprun" -c "$CFG" submit test-instant \
		    --tenant contoso --initiator alice \
		    --payload "{\"round\":$round}"
		[ "$status" -eq 0 ]
		took=$(($(now_ms) - t0))
		echo "# round $round: executor $pid stopped, submit took $took ms" >&3
		for i in $(seq 80); do
			alive "$pid" || break
			sleep 0.1
		done
		! alive "$pid"
		wait_executors 2
	done
	kill "$storm"
	wait "$storm" || true
	# Everything acknowledged ends: nothing is left running or queued.
	for i in $(seq 300); do
		left=$(oprun runs --json --state running --limit 500 | json_get length)
		left=$((left + $(oprun runs --json --state queued --limit 500 | json_get length)))
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	[ "$left" -eq 0 ]
	[ "$(oprun runs --json --state failed --limit 500 | json_get length)" -eq 0 ]
	grep -q "stalled: no heartbeat" "$SERVE_LOG"
	assert_store_ok
}
