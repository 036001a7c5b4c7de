#!/usr/bin/env bats
# The store under an operator's worst day: a writer that stalls with the
# lock, a data file that was emptied, truncated, garbled or deleted, a hot
# backup and its restore, and one runner per store whatever the path.

load helpers
load serve_helpers

setup() {
	serve_setup
	serve_config
}

teardown() {
	serve_teardown
}

# seed_runs N: N queued runs of test-instant (no runner is up).
seed_runs() {
	local i
	for i in $(seq "$1"); do
		submit_cli test-instant contoso "{\"n\":$i,\"pad\":\"$(printf '%0300d' 0)\"}" >/dev/null
	done
}

# assert_refused_damaged CMD...: every command exits with a runtime error
# (not a signal), and says the store is damaged and how to recover.
assert_refused_damaged() {
	local cmd
	for cmd in "runs" "show 1" "wait 1 --timeout 1" \
	    "notifications --user alice" "check-store" "worker --once" \
	    "prune --older-than 1" "store backup $TEST_DIR/bk" \
	    "submit test-instant --tenant contoso --initiator alice --payload {}"; do
		# shellcheck disable=SC2086
		run timeout 10 "$OPRUN_BUILD/oprun" -c "$CFG" $cmd
		if [ "$status" -eq 0 ] || [ "$status" -ge 124 ]; then
			echo "oprun $cmd: status $status: $output" >&2
			return 1
		fi
		case $output in
		*"is damaged"*backup*) ;;
		*) echo "oprun $cmd: $output" >&2; return 1 ;;
		esac
	done
	run timeout 10 "$OPRUN_BUILD/oprun" -c "$CFG" serve
	[ "$status" -ne 0 ] && [ "$status" -lt 124 ]
	[[ "$output" == *"is damaged"* ]]
}

@test "read commands answer at once while a stalled process holds the writer lock" {
	id=$(submit_cli test-instant contoso '{}')
	start_bg "$TEST_DIR/holder.out" "$OPRUN_BUILD/tools/hold_writer" "$TEST_DIR/store"
	for i in $(seq 50); do
		grep -q held "$TEST_DIR/holder.out" && break
		sleep 0.1
	done
	grep -q held "$TEST_DIR/holder.out"
	run timeout 3 "$OPRUN_BUILD/oprun" -c "$CFG" runs --json
	[ "$status" -eq 0 ]
	run timeout 3 "$OPRUN_BUILD/oprun" -c "$CFG" show "$id"
	[ "$status" -eq 0 ]
	run timeout 3 "$OPRUN_BUILD/oprun" -c "$CFG" notifications --user alice
	[ "$status" -eq 0 ]
	run timeout 3 "$OPRUN_BUILD/oprun" -c "$CFG" check-store
	[ "$status" -eq 0 ]
	# wait polls a queued run and gives up at its own timeout (exit 5).
	run timeout 5 "$OPRUN_BUILD/oprun" -c "$CFG" wait "$id" --timeout 1
	[ "$status" -eq 5 ]
}

@test "an emptied data.mdb is refused by every command, never started afresh" {
	seed_runs 3
	: >"$TEST_DIR/store/data.mdb"
	assert_refused_damaged
	[ "$(stat -c %s "$TEST_DIR/store/data.mdb")" -eq 0 ]
}

@test "a truncated data.mdb is refused by every command without a SIGBUS" {
	seed_runs 200
	truncate -s 16384 "$TEST_DIR/store/data.mdb"
	assert_refused_damaged
	run oprun runs
	[[ "$output" == *"truncated"* ]]
}

@test "a data.mdb with a garbled header is refused by every command" {
	seed_runs 3
	dd if=/dev/urandom of="$TEST_DIR/store/data.mdb" bs=4096 count=2 \
	    conv=notrunc 2>/dev/null
	assert_refused_damaged
	run oprun runs
	[[ "$output" == *"not a valid LMDB file"* ]]
}

@test "a data.mdb deleted beside its lock file is refused, not recreated" {
	seed_runs 3
	rm "$TEST_DIR/store/data.mdb"
	assert_refused_damaged
	[ ! -e "$TEST_DIR/store/data.mdb" ]
}

@test "store backup under load is consistent, compacted, and restores" {
	start_serve
	"$OPRUN_BUILD/tools/submit_storm" -c "$CFG" --type test-instant \
	    --count 0 >/dev/null 2>&1 3>&- &
	storm=$!
	echo "$storm" >>"$PIDS_FILE"
	sleep 1
	run oprun store backup "$TEST_DIR/bk"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$TEST_DIR/bk/data.mdb"* ]]
	sleep 0.5
	kill "$storm"
	wait "$storm" || true
	stop_serve
	[ "$(stat -c %a "$TEST_DIR/bk/data.mdb")" = 600 ]
	# Compacted: far smaller than the live file (its whole map in
	# relaxed mode).
	[ "$(stat -c %s "$TEST_DIR/bk/data.mdb")" -lt \
	    "$(stat -c %s "$TEST_DIR/store/data.mdb")" ]
	after=$(oprun runs --json --limit 1 | json_get 0.id)
	# Restore: stop oprun, put the copy in place of data.mdb.
	cp "$TEST_DIR/bk/data.mdb" "$TEST_DIR/store/data.mdb"
	assert_store_ok
	restored=$(oprun runs --json --limit 1 | json_get 0.id)
	[ "$restored" -gt 0 ]
	[ "$restored" -le "$after" ]
	# The restored store goes on: runs run, ids continue from the copy.
	start_serve
	id=$(submit_cli test-instant contoso '{"after":"restore"}')
	[ "$id" -eq $((restored + 1)) ]
	wait_state "$id" succeeded
	stop_serve
	assert_store_ok
}

@test "store backup refuses a directory that already holds a store" {
	seed_runs 1
	mkdir "$TEST_DIR/bk"
	echo x >"$TEST_DIR/bk/data.mdb"
	run oprun store backup "$TEST_DIR/bk"
	[ "$status" -eq 1 ]
	[[ "$output" == *"already holds a data.mdb"* ]]
	[ "$(cat "$TEST_DIR/bk/data.mdb")" = x ]
}

# second_serve_refused CFG2: a second serve on the same store files, by
# another path, refuses to start while the first runs.
second_serve_refused() {
	run timeout 10 "$OPRUN_BUILD/oprun" -c "$1" serve
	[ "$status" -ne 0 ] && [ "$status" -lt 124 ]
	[[ "$output" == *"already running"* ]]
}

# config_at PATH: a copy of $CFG whose store is PATH; prints its name.
config_at() {
	sed "s|^path = store\$|path = $1|" "$CFG" >"$TEST_DIR/other.ini"
	echo "$TEST_DIR/other.ini"
}

@test "one serve per store through a symlinked path" {
	seed_runs 1
	ln -s "$TEST_DIR/store" "$TEST_DIR/link"
	start_serve
	second_serve_refused "$(config_at "$TEST_DIR/link")"
}

@test "one serve per store through hard links to its files" {
	seed_runs 1
	mkdir -m 700 "$TEST_DIR/linked"
	ln "$TEST_DIR/store/data.mdb" "$TEST_DIR/linked/data.mdb"
	ln "$TEST_DIR/store/lock.mdb" "$TEST_DIR/linked/lock.mdb"
	start_serve
	second_serve_refused "$(config_at "$TEST_DIR/linked")"
}

@test "one serve per store through a bind mount" {
	seed_runs 1
	mkdir -m 700 "$TEST_DIR/bound"
	if ! mount --bind "$TEST_DIR/store" "$TEST_DIR/bound" 2>/dev/null; then
		skip "bind mounts need root (CI runs as root)"
	fi
	start_serve
	second_serve_refused "$(config_at "$TEST_DIR/bound")"
	stop_serve
	umount "$TEST_DIR/bound"
}

@test "wait on a queued run says when no runner is running, and not when one is" {
	id=$(submit_cli test-slow contoso '{"seconds":0.2}')
	run timeout 5 "$OPRUN_BUILD/oprun" -c "$CFG" wait "$id" --timeout 1
	[ "$status" -eq 5 ]
	[[ "$output" == *"no runner is running"*"oprun serve"* ]]
	start_serve
	id2=$(submit_cli test-slow contoso '{"seconds":0.5}')
	run timeout 10 "$OPRUN_BUILD/oprun" -c "$CFG" wait "$id2" --timeout 8
	[ "$status" -eq 0 ]
	[[ "$output" != *"no runner"* ]]
}

@test "a garbled page inside data.mdb is reported as damage, with the way back" {
	seed_runs 60
	cp "$TEST_DIR/store/data.mdb" "$TEST_DIR/clean.mdb"
	for page in 2 3; do
		cp "$TEST_DIR/clean.mdb" "$TEST_DIR/store/data.mdb"
		head -c 4096 /dev/zero | tr '\0' A |
		    dd of="$TEST_DIR/store/data.mdb" bs=4096 seek="$page" \
		    count=1 conv=notrunc 2>/dev/null
		run timeout 10 "$OPRUN_BUILD/oprun" -c "$CFG" runs
		[ "$status" -ne 0 ]
		[[ "$output" == *"damaged"*"backup"* ]]
	done
}

@test "processes that open a store while another one creates it never call it damaged" {
	use_plugins instant
	for i in $(seq 25); do
		rm -rf "$TEST_DIR/store"
		"$OPRUN_BUILD/oprun" -c "$CFG" worker --once >/dev/null 2>"$TEST_DIR/w.err" &
		w=$!
		"$OPRUN_BUILD/oprun" -c "$CFG" runs >/dev/null 2>"$TEST_DIR/r.err" &
		r=$!
		run oprun submit test-instant --tenant contoso --initiator alice --payload "{\"i\":$i}"
		if [ "$status" -ne 0 ]; then
			echo "round $i: submit: $output" >&2
			false
		fi
		wait "$r" || { echo "round $i: runs: $(cat "$TEST_DIR/r.err")" >&2; false; }
		wait "$w" || { echo "round $i: worker: $(cat "$TEST_DIR/w.err")" >&2; false; }
	done
	assert_store_ok
}
