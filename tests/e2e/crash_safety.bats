#!/usr/bin/env bats
# A submitter killed with SIGKILL at any moment leaves the store
# consistent: every run, queue entry, identity row and index row is
# written in one transaction or not at all.

bats_require_minimum_version 1.5.0
load helpers

# kill_storm_once [ARGS...]: starts an endless submit_storm, lets it run
# 0.01-0.2 s, SIGKILLs it and reaps it.
kill_storm_once() {
	local pid delay
	"$OPRUN_BUILD/tools/submit_storm" -c "$CFG" --count 0 \
	    --type test-instant --tenant contoso "$@" \
	    >/dev/null 2>>"$TEST_DIR/storm.err" 3>&- &
	pid=$!
	echo "$pid" >>"$PIDS_FILE"
	delay=$(printf '0.%03d' $((RANDOM % 191 + 10)))
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

@test "a submitter killed with SIGKILL at random moments never breaks the store" {
	for i in $(seq 30); do
		kill_storm_once
		run oprun check-store
		if [ "$status" -ne 0 ] || [ "$output" != "store OK" ]; then
			echo "after kill $i: status $status" >&2
			echo "$output" >&2
			false
		fi
	done
	# The submitters did write runs (tens of thousands: count them by
	# state, not by listing), and every one of them is queued.
	[ "$(runs_count --state queued --limit 1)" -eq 1 ]
	for s in running succeeded partial failed canceled; do
		[ "$(runs_count --state "$s" --limit 1)" -eq 0 ]
	done

	# The runs the killed submitters left behind can all be executed.
	oprun worker --once 2>"$TEST_DIR/worker.log"
	[ "$(runs_count --state succeeded --limit 1)" -eq 1 ]
	for s in queued running partial failed canceled; do
		[ "$(runs_count --state "$s" --limit 1)" -eq 0 ]
	done
	assert_store_ok
}

@test "a submitter of one identity killed at random moments leaves one active run" {
	for i in $(seq 10); do
		kill_storm_once --same
		assert_store_ok
	done
	[ "$(runs_count)" -eq 1 ]
	run oprun worker --once
	[ "$status" -eq 0 ]
	# The identity was released with the run; a new submit creates one.
	run oprun submit test-instant --tenant contoso --initiator storm \
	    --payload '{"pid":0,"n":0}' --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = false ]
	assert_store_ok
}

@test "a worker killed with SIGKILL mid-run leaves a store that check-store accepts" {
	start_bg "$TEST_DIR/worker.log" "$OPRUN_BUILD/oprun" -c "$CFG" worker
	worker=$BG_PID
	id=$(submit_id test-slow contoso alice '{"seconds":30}')
	wait_state "$id" running
	kill -KILL "$worker"
	wait "$worker" 2>/dev/null || true
	assert_store_ok
	# The run is still there, not lost with its worker.
	[ "$(run_field "$id" id)" = "$id" ]
}
