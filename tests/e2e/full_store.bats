#!/usr/bin/env bats
# A full disk or a full map never crashes a process and never costs a
# run: nothing claimed is left running, nothing is failed or charged an
# attempt, the runner says once what is full and what to do, and runs go
# on by themselves once there is room.  The disk is a small tmpfs (root
# mounts it: CI runs as root).

load helpers
load serve_helpers

setup() {
	serve_setup
	DISK="$TEST_DIR/disk"
	mkdir "$DISK"
}

teardown() {
	serve_teardown_keep_dir
	if mountpoint -q "$DISK" 2>/dev/null; then
		umount "$DISK"
	fi
	oprun_teardown
}

# serve_teardown without removing the directory (the tmpfs is unmounted
# first).
serve_teardown_keep_dir() {
	local saved=$TEST_DIR
	TEST_DIR=
	serve_teardown
	TEST_DIR=$saved
}

# small_disk SIZE: a tmpfs of SIZE at $DISK.
small_disk() {
	mount -t tmpfs -o "size=$1" tmpfs "$DISK" ||
	    skip "mounting a tmpfs needs root (CI runs as root)"
}

# full_config DURABILITY MAP_MB [STORE]: one executor, big payloads.
full_config() {
	{
		printf '[store]\npath = %s\ndurability = %s\nmap_size_mb = %s\n' \
		    "${3:-disk/store}" "$1" "$2"
		printf '[runner]\nplugin_dir = plugins\nexecutors = 1\n'
		printf 'shutdown_grace_s = 1\nmax_payload_bytes = 200000\n'
		printf '[tenant contoso]\n'
	} >"$CFG"
	SERVE_EXECUTORS=1
}

PAD=$(head -c 50000 /dev/zero | tr '\0' x)

# submit_padded TYPE JSON_FIELDS: a run whose record spans many pages.
submit_padded() {
	submit_cli "$1" contoso "{$2\"pad\":\"$PAD\"}"
}

fill_disk() {
	dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null || true
}

free_disk() {
	rm -f "$DISK/filler"
}

# state_count STATE: runs in STATE.
state_count() {
	oprun runs --json --state "$1" --limit 500 | json_get length
}

# assert_all_succeeded_first_attempt IDS...
assert_all_succeeded_first_attempt() {
	local id
	for id in "$@"; do
		wait_state "$id" succeeded 300
		[ "$(run_field "$id" attempt)" -eq 1 ]
	done
}

full_disk_worker_once() {
	small_disk 8m
	full_config "$1" 64
	ids=""
	for i in 1 2 3 4 5; do
		ids="$ids $(submit_padded test-instant "\"n\":$i,")"
	done
	fill_disk
	# A submit on a full disk is refused, and says what to do.
	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload "{\"late\":1,\"pad\":\"$PAD\"}"
	[ "$status" -eq 1 ]
	[[ "$output" == *"disk holding the store is full"*df* ]]
	run oprun worker --once
	[ "$status" -eq 1 ]
	[[ "$output" == *"disk holding the store is full"* ]]
	[ "$(state_count running)" -eq 0 ]
	[ "$(state_count failed)" -eq 0 ]
	[ "$(state_count queued)" -eq 5 ]
	free_disk
	run oprun worker --once
	[ "$status" -eq 0 ]
	# shellcheck disable=SC2086
	assert_all_succeeded_first_attempt $ids
	assert_store_ok
}

@test "worker --once, relaxed: a full disk claims nothing, fails nothing, and no SIGBUS" {
	full_disk_worker_once relaxed
}

@test "worker --once, full durability: a full disk claims nothing and fails nothing" {
	full_disk_worker_once full
}

full_disk_serve() {
	small_disk 8m
	full_config "$1" 64
	start_serve
	slow=$(submit_padded test-slow '"seconds":2,')
	wait_state "$slow" running
	fill_disk
	for i in 1 2 3; do
		q=$(submit_cli test-instant contoso "{\"n\":$i}" 2>/dev/null) &&
		    queued="${queued:-} $q"
	done
	# The run ends while the disk is full: its end is kept in memory
	# and written again (LMDB may find a free page for a small write
	# meanwhile, so it may get through before the disk is freed), one
	# line says why, not one per retry.
	wait_log "runs wait (none is failed" 100
	sleep 2
	state=$(run_field "$slow" state)
	[ "$state" = running ] || [ "$state" = succeeded ]
	[ "$(state_count failed)" -eq 0 ]
	lines=$(grep -c "runs wait (none is failed" "$SERVE_LOG")
	[ "$lines" -ge 1 ] && [ "$lines" -le 3 ]
	grep "runs wait (none is failed" "$SERVE_LOG" | grep -q "df "
	free_disk
	# shellcheck disable=SC2086
	assert_all_succeeded_first_attempt "$slow" ${queued:-}
	wait_log "the store can be written again"
	id=$(submit_cli test-instant contoso '{"after":1}')
	wait_state "$id" succeeded
	[ "$(state_count failed)" -eq 0 ]
	stop_serve
	assert_store_ok
}

@test "serve, relaxed: a run ending on a full disk is kept, not failed, and finishes once space returns" {
	full_disk_serve relaxed
}

@test "serve, full durability: a run ending on a full disk is kept, not failed, and finishes once space returns" {
	full_disk_serve full
}

full_map_serve() {
	full_config "$1" 1 store
	ids=""
	for i in $(seq 40); do
		out=$(oprun submit test-instant --tenant contoso --initiator alice \
		    --payload "{\"n\":$i,\"pad\":\"$PAD\"}" --json 2>&1) || break
		ids="$ids $(printf '%s' "$out" | json_get id)"
	done
	# The map filled up: the submit that did not fit says what to do.
	[[ "$out" == *"is full (1 MiB): raise [store] map_size_mb"* ]]
	[ -n "$ids" ]
	start_serve
	wait_log "map_size_mb" 100
	sleep 1
	[ "$(state_count failed)" -eq 0 ]
	lines=$(grep -c "runs wait (none is failed" "$SERVE_LOG")
	[ "$lines" -ge 1 ] && [ "$lines" -le 3 ]
	# Room: a bigger map, taken on by a reload.
	sed -i 's/^map_size_mb = 1$/map_size_mb = 64/' "$CFG"
	kill -HUP "$SERVE_PID"
	# shellcheck disable=SC2086
	assert_all_succeeded_first_attempt $ids
	stop_serve
	assert_store_ok
}

@test "serve, relaxed: a full map fails no run and runs go on after map_size_mb is raised" {
	full_map_serve relaxed
}

@test "serve, full durability: a full map fails no run and runs go on after map_size_mb is raised" {
	full_map_serve full
}
