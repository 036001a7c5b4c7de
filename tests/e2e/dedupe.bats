#!/usr/bin/env bats
# Dedupe: one active run per identity (tenant + type + target + canonical
# payload, narrowed by the plugin), released when the run ends.

bats_require_minimum_version 1.5.0
load helpers

@test "a deduplicated submit returns the active run and adds no notification" {
	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload '{"a":1}' --json
	[ "$status" -eq 0 ]
	first=$(printf '%s' "$output" | json_get id)
	[ "$(printf '%s' "$output" | json_get deduplicated)" = false ]
	[ "$(printf '%s' "$output" | json_get state)" = queued ]

	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload '{"a":1}' --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get id)" = "$first" ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = true ]
	[ "$(printf '%s' "$output" | json_get state)" = queued ]

	[ "$(runs_count)" = 1 ]
	run oprun notifications --user alice --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get notifications.length)" = 1 ]
	[ "$(printf '%s' "$output" | json_get notifications.0.kind)" = queued ]
	[ "$(printf '%s' "$output" | json_get notifications.0.run_id)" = "$first" ]
	[ "$(printf '%s' "$output" | json_get unread)" = 1 ]
	assert_store_ok
}

@test "a deduplicated submit without --json says nothing new was created" {
	id=$(submit_id test-instant contoso alice '{"a":1}')
	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload '{"a":1}'
	[ "$status" -eq 0 ]
	[[ "$output" == *"run $id is already queued"* ]]
	[[ "$output" == *"nothing new was created"* ]]
}

@test "a deduplicated submit by another initiator returns the run and notifies no one" {
	id=$(submit_id test-instant contoso alice '{"a":1}')
	run oprun submit test-instant --tenant contoso --initiator bob \
	    --payload '{"a":1}' --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get id)" = "$id" ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = true ]
	[ "$(printf '%s' "$output" | json_get initiator)" = alice ]
	run oprun notifications --user bob --json
	[ "$(printf '%s' "$output" | json_get notifications.length)" = 0 ]
}

@test "once the run is terminal the same submit creates a new run" {
	first=$(submit_id test-instant contoso alice '{"a":1}')
	run oprun worker --once
	[ "$status" -eq 0 ]
	[ "$(run_field "$first" state)" = succeeded ]

	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload '{"a":1}' --json
	[ "$status" -eq 0 ]
	second=$(printf '%s' "$output" | json_get id)
	[ "$(printf '%s' "$output" | json_get deduplicated)" = false ]
	[ "$second" != "$first" ]
	[ "$second" -gt "$first" ]
	[ "$(runs_count)" = 2 ]
	assert_store_ok
}

@test "a canceled run releases its identity" {
	first=$(submit_id test-instant contoso alice '{"a":1}')
	run oprun cancel "$first"
	[ "$status" -eq 0 ]
	second=$(submit_id test-instant contoso alice '{"a":1}')
	[ "$second" != "$first" ]
	[ "$(run_field "$second" state)" = queued ]
	assert_store_ok
}

@test "key order and whitespace in the payload do not change the identity" {
	first=$(submit_id test-instant contoso alice '{"a":1,"b":[1,2],"c":{"x":"y","w":true}}')
	run oprun submit test-instant --tenant contoso --initiator alice --json \
	    --payload '  { "c" : { "w" : true , "x" : "y" } ,
	        "b" : [ 1 , 2 ] , "a" : 1 }  '
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get id)" = "$first" ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = true ]
	[ "$(runs_count)" = 1 ]
}

@test "one spelling per number: 1, 1.0 and 1e0 are one identity" {
	first=$(submit_id test-instant contoso alice '{"n":1}')
	[ "$(submit_id test-instant contoso alice '{"n":1.0}')" = "$first" ]
	[ "$(submit_id test-instant contoso alice '{"n":1e0}')" = "$first" ]
	[ "$(runs_count)" = 1 ]
}

@test "escaped and literal spellings of one string are one identity" {
	first=$(submit_id test-instant contoso alice '{"s":"caf\u00e9 a/b"}')
	[ "$(submit_id test-instant contoso alice '{"s":"café a\/b"}')" = "$first" ]
	[ "$(runs_count)" -eq 1 ]
}

@test "a string with an escaped NUL is neither truncated nor confused with its prefix" {
	# Either refuse it (exit 2) or keep it whole; silently storing
	# {"s":"a"} and deduplicating it with {"s":"a"} loses data.
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator alice --payload '{"s":"a\u0000b"}' --json
	if [ "$status" -eq 2 ]; then
		[ "$(runs_count)" -eq 0 ]
		return 0
	fi
	[ "$status" -eq 0 ]
	first=$(printf '%s' "$output" | json_get id)
	echo "stored payload: $(printf '%s' "$output" | json_get payload)"
	[ "$(printf '%s' "$output" | json_eval 'd["payload"]["s"] == "a\x00b"')" = true ]
	second=$(submit_id test-instant contoso alice '{"s":"a"}')
	[ "$second" != "$first" ]
}

@test "a payload given by --payload-file dedupes with the same inline payload" {
	first=$(submit_id test-instant contoso alice '{"a":1}')
	printf '{ "a" : 1 }\n' >"$TEST_DIR/p.json"
	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload-file "$TEST_DIR/p.json" --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get id)" = "$first" ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = true ]
}

@test "a different payload value makes a new run" {
	first=$(submit_id test-instant contoso alice '{"a":1}')
	second=$(submit_id test-instant contoso alice '{"a":2}')
	[ "$second" != "$first" ]
	[ "$(runs_count)" = 2 ]
}

@test "a different target makes a new run" {
	first=$(submit_id test-instant contoso alice '{"a":1}' --target policy-1)
	second=$(submit_id test-instant contoso alice '{"a":1}' --target policy-2)
	third=$(submit_id test-instant contoso alice '{"a":1}')
	[ "$second" != "$first" ]
	[ "$third" != "$first" ]
	[ "$third" != "$second" ]
	[ "$(submit_id test-instant contoso alice '{"a":1}' --target policy-1)" = "$first" ]
	[ "$(runs_count)" = 3 ]
	[ "$(run_field "$first" target)" = policy-1 ]
	[ "$(run_field "$third" target)" = null ]
}

@test "a different tenant makes a new run" {
	first=$(submit_id test-instant contoso alice '{"a":1}')
	second=$(submit_id test-instant fabrikam alice '{"a":1}')
	[ "$second" != "$first" ]
	[ "$(run_field "$second" tenant)" = fabrikam ]
	[ "$(runs_count)" = 2 ]
}

@test "a different operation type makes a new run" {
	first=$(submit_id test-instant contoso alice '{"count":1}')
	second=$(submit_id test-items contoso alice '{"count":1}')
	[ "$second" != "$first" ]
	[ "$(runs_count)" = 2 ]
}

@test "the items plugin narrows identity: a different comment still dedupes" {
	first=$(submit_id test-items contoso alice '{"count":8,"fail":[3,6],"comment":"first"}')
	run oprun submit test-items --tenant contoso --initiator alice --json \
	    --payload '{"fail":[3,6],"count":8,"comment":"again"}'
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get id)" = "$first" ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = true ]
	# The stored payload is the first one, comment included.
	[ "$(printf '%s' "$output" | json_get payload.comment)" = first ]
	# Leaving the comment out is the same identity too.
	[ "$(submit_id test-items contoso alice '{"count":8,"fail":[3,6]}')" = "$first" ]
	[ "$(runs_count)" = 1 ]
	run oprun notifications --user alice --json
	[ "$(printf '%s' "$output" | json_get notifications.length)" = 1 ]
}

@test "the items plugin's identity still tells different item lists apart" {
	first=$(submit_id test-items contoso alice '{"count":8,"fail":[3,6]}')
	second=$(submit_id test-items contoso alice '{"count":8,"fail":[3]}')
	third=$(submit_id test-items contoso alice '{"count":9,"fail":[3,6]}')
	[ "$second" != "$first" ]
	[ "$third" != "$first" ]
	[ "$third" != "$second" ]
	[ "$(runs_count)" = 3 ]
}

@test "a running run is still active: the same submit returns it" {
	start_bg "$TEST_DIR/worker.log" "$OPRUN_BUILD/oprun" -c "$CFG" worker
	worker=$BG_PID
	id=$(submit_id test-slow contoso alice '{"seconds":30}')
	wait_state "$id" running
	run oprun submit test-slow --tenant contoso --initiator alice \
	    --payload '{"seconds":30}' --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get id)" = "$id" ]
	[ "$(printf '%s' "$output" | json_get deduplicated)" = true ]
	[ "$(printf '%s' "$output" | json_get state)" = running ]
	run oprun cancel "$id"
	[ "$status" -eq 0 ]
	wait_state "$id" canceled 100
	rc=0
	stop_bg "$worker" || rc=$?
	[ "$rc" -eq 0 ]
}
