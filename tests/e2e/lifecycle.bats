#!/usr/bin/env bats
# The run lifecycle as a user sees it: states, counts, failures, history,
# `oprun wait` exit statuses (0 ok, 1 failed, 3 partial, 4 canceled,
# 5 timed out), cancellation, and what happens when a plugin is gone.

bats_require_minimum_version 1.5.0
load helpers

# start_worker: runs `oprun worker` in the background (WORKER = its PID).
start_worker() {
	start_bg "$TEST_DIR/worker.log" "$OPRUN_BUILD/oprun" -c "$CFG" worker
	WORKER=$BG_PID
}

# stop_worker: SIGTERM; the worker must exit with status 0.
stop_worker() {
	local rc=0
	stop_bg "$WORKER" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "worker exited with status $rc" >&2
		cat "$TEST_DIR/worker.log" >&2
		return 1
	fi
}

@test "an items run with some failing items ends partial with counts and failures" {
	id=$(submit_id test-items contoso alice '{"count":5,"fail":[2,4]}')
	run oprun worker --once
	[ "$status" -eq 0 ]
	run --separate-stderr oprun show "$id" --json
	[ "$status" -eq 0 ]
	show=$output
	[ "$(printf '%s' "$show" | json_get state)" = partial ]
	[ "$(printf '%s' "$show" | json_get summary.total)" -eq 5 ]
	[ "$(printf '%s' "$show" | json_get summary.processed)" -eq 5 ]
	[ "$(printf '%s' "$show" | json_get summary.succeeded)" -eq 3 ]
	[ "$(printf '%s' "$show" | json_get summary.failed)" -eq 2 ]
	[ "$(printf '%s' "$show" | json_get summary.skipped)" -eq 0 ]
	[ "$(printf '%s' "$show" | json_get failures.total)" -eq 2 ]
	[ "$(printf '%s' "$show" | json_get failures.items.length)" -eq 2 ]
	[ "$(printf '%s' "$show" | json_get failures.items.0.item)" = item-2 ]
	[ "$(printf '%s' "$show" | json_get failures.items.0.message)" = "simulated failure of item-2" ]
	[ "$(printf '%s' "$show" | json_get failures.items.1.item)" = item-4 ]
	[ "$(printf '%s' "$show" | json_get failures.items.1.message)" = "simulated failure of item-4" ]
	[ "$(printf '%s' "$show" | json_get result)" = '{"failed":2,"processed":5}' ]
	[ "$(printf '%s' "$show" | json_get started_at)" != null ]
	[ "$(printf '%s' "$show" | json_get finished_at)" != null ]
	# History: queued -> running -> partial.
	[ "$(printf '%s' "$show" | json_eval '[e["state"] for e in d["history"]]')" = '["queued","running","partial"]' ]

	run oprun wait "$id"
	[ "$status" -eq 3 ]
	[[ "$output" == "run $id partial: 5 of 5 processed, 3 succeeded, 2 failed"* ]]
}

@test "show without --json lists the state, counts, history and failures" {
	id=$(submit_id test-items contoso alice '{"count":5,"fail":[2,4]}')
	oprun worker --once 2>/dev/null
	run --separate-stderr oprun show "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "run $id: partial" ]
	[[ "$output" == *"5 of 5 processed, 3 succeeded, 2 failed"* ]]
	[[ "$output" == *"item-2: simulated failure of item-2"* ]]
	[[ "$output" == *"item-4: simulated failure of item-4"* ]]
	[[ "$output" == *"history"*queued*running*partial* ]]
}

@test "the stored failure list is bounded but its total counts every failure" {
	fail=$(seq -s, 1 300)
	id=$(submit_id test-items contoso alice "{\"count\":500,\"fail\":[$fail]}")
	oprun worker --once 2>/dev/null
	run --separate-stderr oprun show "$id" --json
	show=$output
	[ "$(printf '%s' "$show" | json_get state)" = partial ]
	[ "$(printf '%s' "$show" | json_get summary.failed)" -eq 300 ]
	[ "$(printf '%s' "$show" | json_get summary.succeeded)" -eq 200 ]
	[ "$(printf '%s' "$show" | json_get failures.total)" -eq 300 ]
	[ "$(printf '%s' "$show" | json_get failures.items.length)" -eq 100 ]
	[ "$(printf '%s' "$show" | json_get failures.items.0.item)" = item-1 ]
	run --separate-stderr oprun show "$id"
	[[ "$output" == *"failures (300, first 100 shown)"* ]]
}

@test "a succeeded run makes wait exit 0" {
	id=$(submit_id test-items contoso alice '{"count":3}')
	oprun worker --once 2>/dev/null
	[ "$(run_field "$id" state)" = succeeded ]
	run oprun wait "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == "run $id succeeded: 3 of 3 processed, 3 succeeded, 0 failed"* ]]
	run --separate-stderr oprun wait "$id" --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get state)" = succeeded ]
}

@test "a run whose items all fail ends failed with a reason and wait exits 1" {
	id=$(submit_id test-items contoso alice '{"count":3,"fail":[1,2,3]}')
	oprun worker --once 2>/dev/null
	[ "$(run_field "$id" state)" = failed ]
	[ "$(run_field "$id" summary.failed)" -eq 3 ]
	[ "$(run_field "$id" summary.succeeded)" -eq 0 ]
	[ "$(run_field "$id" reason)" = "all 3 items failed" ]
	run oprun wait "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *"run $id failed:"*"all 3 items failed"* ]]
}

@test "an items run with no items succeeds with zero counts" {
	id=$(submit_id test-items contoso alice '{"count":0}')
	oprun worker --once 2>/dev/null
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" summary.total)" -eq 0 ]
}

@test "canceling a queued run cancels it at once and notifies the initiator" {
	id=$(submit_id test-items contoso alice '{"count":3}')
	run oprun cancel "$id" --as carol
	[ "$status" -eq 0 ]
	[ "$output" = "run $id canceled" ]
	[ "$(run_field "$id" state)" = canceled ]
	[[ "$(run_field "$id" reason)" == *"canceled by cli:carol"* ]]
	run oprun wait "$id"
	[ "$status" -eq 4 ]
	run --separate-stderr oprun notifications --user alice --json
	[ "$(printf '%s' "$output" | json_get notifications.length)" -eq 2 ]
	[ "$(printf '%s' "$output" | json_get notifications.0.kind)" = finished ]
	[ "$(printf '%s' "$output" | json_get notifications.0.state)" = canceled ]
	[ "$(printf '%s' "$output" | json_get notifications.0.run_id)" -eq "$id" ]
	# The worker finds nothing to do, and the run stays canceled.
	run oprun worker --once
	[ "$status" -eq 0 ]
	[ "$(run_field "$id" state)" = canceled ]
	assert_store_ok
}

@test "a terminal run cannot be canceled and stays as it was" {
	id=$(submit_id test-items contoso alice '{"count":2}')
	oprun worker --once 2>/dev/null
	run --separate-stderr oprun cancel "$id"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"run $id is already succeeded"* ]]
	[ "$(run_field "$id" state)" = succeeded ]
}

@test "wait with a timeout on a queued run and no worker exits 5" {
	id=$(submit_id test-items contoso alice '{"count":3}')
	run --separate-stderr oprun wait "$id" --timeout 1
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"run $id still not finished after the timeout"* ]]
	[ "$(run_field "$id" state)" = queued ]
}

@test "canceling a running run requests it and the run ends canceled" {
	start_worker
	id=$(submit_id test-slow contoso alice '{"seconds":30}')
	wait_state "$id" running
	run oprun cancel "$id" --as alice
	[ "$status" -eq 0 ]
	[[ "$output" == *"run $id is running: cancel requested"* ]]
	# Ends within a few seconds, though it would sleep 30.
	run oprun wait "$id" --timeout 10
	[ "$status" -eq 4 ]
	run --separate-stderr oprun show "$id" --json
	show=$output
	[ "$(printf '%s' "$show" | json_get state)" = canceled ]
	[ "$(printf '%s' "$show" | json_get reason)" = "canceled while sleeping" ]
	# The history records who asked to cancel, while it was running.
	[ "$(printf '%s' "$show" | json_eval 'any(e["state"] == "running" and (e["reason"] or "").startswith("cancel requested by cli:alice") for e in d["history"])')" = true ]
	[ "$(printf '%s' "$show" | json_eval '[e["state"] for e in d["history"]][-1]')" = canceled ]
	# Its initiator gets the terminal notification.
	run --separate-stderr oprun notifications --user alice --json
	[ "$(printf '%s' "$output" | json_get notifications.0.kind)" = finished ]
	[ "$(printf '%s' "$output" | json_get notifications.0.state)" = canceled ]
	stop_worker
	assert_store_ok
}

@test "a second cancel of a running run is accepted and recorded once" {
	start_worker
	id=$(submit_id test-slow contoso alice '{"seconds":30,"ignore_cancel":true}')
	wait_state "$id" running
	run oprun cancel "$id"
	[ "$status" -eq 0 ]
	run oprun cancel "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cancel requested"* ]]
	[ "$(run_field "$id" cancel_requested)" = true ]
	[ "$(oprun show "$id" --json | json_eval 'sum(1 for e in d["history"] if (e["reason"] or "").startswith("cancel requested"))')" -eq 1 ]
	[ "$(run_field "$id" state)" = running ]
	# This plugin ignores the request; the worker is stopped with it.
	kill -KILL "$WORKER"
	wait "$WORKER" 2>/dev/null || true
}

@test "the worker exits cleanly on SIGTERM when idle" {
	start_worker
	sleep 0.5
	stop_worker
}

@test "submit --wait with a worker running returns the final state and exit status" {
	start_worker
	run --separate-stderr oprun submit test-items --tenant contoso \
	    --initiator alice --payload '{"count":4,"fail":[1]}' --wait --timeout 60
	[ "$status" -eq 3 ]
	[[ "$output" == "run "*" partial: 4 of 4 processed, 3 succeeded, 1 failed"* ]]
	run --separate-stderr oprun submit test-items --tenant contoso \
	    --initiator alice --payload '{"count":2}' --wait --timeout 60 --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get state)" = succeeded ]
	[ "$(printf '%s' "$output" | json_get summary.succeeded)" -eq 2 ]
	run --separate-stderr oprun submit test-items --tenant contoso \
	    --initiator alice --payload '{"count":1,"fail":[1]}' --wait --timeout 60
	[ "$status" -eq 1 ]
	[[ "$output" == *" failed: "* ]]
	stop_worker
}

@test "submit --wait with no worker times out with exit 5 and leaves the run queued" {
	run --separate-stderr oprun submit test-items --tenant contoso \
	    --initiator alice --payload '{"count":1}' --wait --timeout 1
	[ "$status" -eq 5 ]
	[ "$(runs_count --state queued)" -eq 1 ]
}

@test "a run whose plugin is gone at dispatch is failed with a reason, not left queued" {
	id=$(submit_id test-items contoso alice '{"count":3}')
	rm "$PLUGIN_DIR/items.so"
	run oprun worker --once
	[ "$status" -eq 0 ]
	[ "$(run_field "$id" state)" = failed ]
	[ "$(run_field "$id" reason)" = "no plugin provides operation 'test-items'" ]
	[ "$(runs_count --state queued)" -eq 0 ]
	# Its initiator is told.
	run --separate-stderr oprun notifications --user alice --json
	[ "$(printf '%s' "$output" | json_get notifications.0.kind)" = finished ]
	[ "$(printf '%s' "$output" | json_get notifications.0.state)" = failed ]
	[ "$(printf '%s' "$output" | json_get notifications.0.run_id)" -eq "$id" ]
	[[ "$(printf '%s' "$output" | json_get notifications.0.text)" == *"no plugin provides operation 'test-items'"* ]]
	assert_store_ok
	# The identity was released: with the plugin back, the same submit
	# creates a new run, which runs.
	install -m 644 "$OPRUN_BUILD/test-plugins/items.so" "$PLUGIN_DIR/"
	run --separate-stderr oprun submit test-items --tenant contoso \
	    --initiator alice --payload '{"count":3}' --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = false ]
	new=$(printf '%s' "$output" | json_get id)
	[ "$new" -ne "$id" ]
	oprun worker --once 2>/dev/null
	[ "$(run_field "$new" state)" = succeeded ]
	assert_store_ok
}

@test "a run refused at dispatch does not block the runs queued behind it" {
	first=$(submit_id test-items contoso alice '{"count":1}')
	second=$(submit_id test-instant contoso alice '{}')
	rm "$PLUGIN_DIR/items.so"
	oprun worker --once 2>/dev/null
	[ "$(run_field "$first" state)" = failed ]
	[ "$(run_field "$second" state)" = succeeded ]
	assert_store_ok
}

@test "runs are executed oldest first" {
	a=$(submit_id test-items contoso alice '{"count":1}')
	b=$(submit_id test-instant contoso alice '{}')
	c=$(submit_id test-items contoso alice '{"count":2}')
	oprun worker --once 2>/dev/null
	sa=$(run_field "$a" started_at)
	sb=$(run_field "$b" started_at)
	sc=$(run_field "$c" started_at)
	[[ ! "$sb" < "$sa" ]]
	[[ ! "$sc" < "$sb" ]]
}

@test "the kvconfig plugin keeps its counter across runs" {
	a=$(submit_id test-kv contoso alice '{}')
	oprun worker --once 2>/dev/null
	b=$(submit_id test-kv contoso alice '{}')
	[ "$b" -ne "$a" ]
	oprun worker --once 2>/dev/null
	[ "$(run_field "$a" state)" = succeeded ]
	[ "$(run_field "$b" state)" = succeeded ]
	[ "$(run_field "$a" result.counter)" -eq 1 ]
	[ "$(run_field "$b" result.counter)" -eq 2 ]
	[ "$(run_field "$a" result.greeting)" = hello ]
	[ "$(run_field "$a" result.label)" = null ]
}

@test "the kvconfig plugin gets its [plugin kvconfig] settings" {
	write_config '[plugin kvconfig]' 'greeting = hi' 'label = e2e'
	run oprun config check
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
	id=$(submit_id test-kv contoso alice '{}')
	oprun worker --once 2>/dev/null
	[ "$(run_field "$id" result.greeting)" = hi ]
	[ "$(run_field "$id" result.label)" = e2e ]
}

@test "an unknown key in [plugin kvconfig] fails config check, naming the line" {
	write_config '[plugin kvconfig]' 'greeting = hi' 'colour = blue'
	line=$(grep -n '^colour = blue$' "$CFG" | cut -d: -f1)
	run --separate-stderr oprun config check
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "$CFG:$line: unknown key colour in [plugin kvconfig]"* ]]
}

@test "a [plugin NAME] section for no loaded plugin fails config check, naming the line" {
	write_config '[plugin nosuch]' 'x = 1'
	line=$(grep -n '^\[plugin nosuch\]$' "$CFG" | cut -d: -f1)
	run --separate-stderr oprun config check
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "$CFG:$line: [plugin nosuch] names no loaded plugin"* ]]
}
