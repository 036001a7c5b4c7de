#!/usr/bin/env bats
# Many submitters racing on one store: dedupe and the store's invariants
# hold because the identity row is written in the run's transaction.

bats_require_minimum_version 1.5.0
load helpers

# storm N COUNT [ARGS...]: starts N submit_storm processes at once, waits
# for all, and leaves their outputs in $TEST_DIR/storm.K.out; fails if
# any of them failed.
storm() {
	local n=$1 count=$2 k pids=() rc=0
	shift 2
	for k in $(seq "$n"); do
		"$OPRUN_BUILD/tools/submit_storm" -c "$CFG" --count "$count" \
		    "$@" >"$TEST_DIR/storm.$k.out" 2>"$TEST_DIR/storm.$k.err" 3>&- &
		pids+=("$!")
		echo "$!" >>"$PIDS_FILE"
	done
	for k in "${!pids[@]}"; do
		if ! wait "${pids[$k]}"; then
			echo "submitter $((k + 1)) failed:" >&2
			cat "$TEST_DIR/storm.$((k + 1)).err" >&2
			rc=1
		fi
	done
	return "$rc"
}

# sum_field WORD: sums the number after WORD over all storm outputs.
sum_field() {
	cat "$TEST_DIR"/storm.*.out | awk -v w="$1" '
	    { for (i = 1; i < NF; i++) if ($i == w) s += $(i + 1) }
	    END { print s + 0 }'
}

@test "8 concurrent submitters of one identity create exactly one run" {
	storm 8 1000 --type test-instant --tenant contoso --same
	for k in $(seq 8); do
		grep -Eq '^created [0-9]+ deduplicated [0-9]+$' \
		    "$TEST_DIR/storm.$k.out"
	done
	[ "$(sum_field created)" -eq 1 ]
	[ "$(sum_field deduplicated)" -eq 7999 ]

	run oprun runs --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get length)" -eq 1 ]
	[ "$(printf '%s' "$output" | json_get 0.state)" = queued ]
	# One run, one queued notification for its initiator.
	run oprun notifications --user storm --json
	[ "$(printf '%s' "$output" | json_get notifications.length)" -eq 1 ]
	run oprun check-store
	[ "$status" -eq 0 ]
	[ "$output" = "store OK" ]
}

@test "concurrent submitters of distinct identities lose no run" {
	storm 4 200 --type test-instant --tenant contoso
	[ "$(sum_field created)" -eq 800 ]
	[ "$(sum_field deduplicated)" -eq 0 ]
	run oprun runs --json --limit 10000
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get length)" -eq 800 ]
	# Ids are unique and dense: 1..800.
	[ "$(printf '%s' "$output" | json_eval 'sorted(r["id"] for r in d) == list(range(1, 801))')" = true ]
	assert_store_ok
}

@test "submitters racing a worker leave a consistent store" {
	start_bg "$TEST_DIR/worker.log" "$OPRUN_BUILD/oprun" -c "$CFG" worker
	worker=$BG_PID
	storm 4 100 --type test-instant --tenant contoso
	[ "$(sum_field created)" -eq 400 ]
	for i in $(seq 600); do
		[ "$(runs_count --state queued --limit 10000)" -eq 0 ] && break
		sleep 0.1
	done
	[ "$(runs_count --state succeeded --limit 10000)" -eq 400 ]
	rc=0
	stop_bg "$worker" || rc=$?
	[ "$rc" -eq 0 ]
	assert_store_ok
}
