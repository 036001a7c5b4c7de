#!/usr/bin/env bats
# Run documents, the directory cache and sealed values (ABI 1.2, host
# side) through the real oprun binary, the real store and the docstest
# test plugin (tests/plugins/docstest.c): `worker --once` runs the runs,
# `serve` where a crash must be survived.

load helpers
load serve_helpers

setup() {
	serve_setup
	use_plugins docstest instant
	write_config
}

teardown() {
	serve_teardown
}

# key_config FILE: the standard config with [store] secrets_key_file.
key_config() {
	write_config
	sed -i "s|^durability = relaxed\$|&\nsecrets_key_file = $1|" "$CFG"
}

# docs_run PAYLOAD: submits test-docs and runs it to its end; prints the id.
docs_run() {
	local id
	id=$(submit_id test-docs contoso alice "$1") || return 1
	oprun worker --once >/dev/null 2>&1 || true
	printf '%s' "$id"
}

@test "documents: written with the run, listed in name order, read one by one" {
	id=$(docs_run '{"count":30}')
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" result.read)" = 30 ]
	run oprun docs "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]%% *}" = items/00000.json ]
	[ "${lines[29]%% *}" = items/00029.json ]
	[[ "${lines[30]}" == "30 documents, "* ]]
	run oprun docs "$id" --prefix items/0002 --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get count)" = 10 ]
	[ "$(printf '%s' "$output" | json_get documents.0.name)" = items/00020.json ]
	run oprun docs "$id" items/00007.json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get n)" = 7 ]
	run oprun docs "$id" items/nope.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"run $id has no document items/nope.json"* ]]
	run oprun docs 999
	[ "$status" -eq 2 ]
	[[ "$output" == *"run 999 does not exist"* ]]
	assert_store_ok
}

@test "documents: a crashed idempotent run is retried with only its last attempt's documents" {
	serve_config
	use_plugins docstest
	start_serve
	id=$(submit_cli test-docs contoso '{"count":40,"crash_after":25}')
	wait_terminal "$id" 300
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" attempt)" = 2 ]
	# attempt 2 read back exactly its own 40 documents
	[ "$(run_field "$id" result.read)" = 40 ]
	[ "$(run_field "$id" result.bad)" = 0 ]
	run oprun docs "$id" --json
	[ "$(printf '%s' "$output" | json_get count)" = 40 ]
	for n in 00000 00024 00039; do
		[ "$(oprun docs "$id" "items/$n.json" | json_get attempt)" = 2 ]
	done
	stop_serve
	assert_store_ok
}

@test "directory: a snapshot replaces the last one whole; a failed sync leaves it as it was" {
	a=$(submit_id test-dir contoso alice '{"kind":"groups","names":["HR Users","Finance","hr users"]}')
	oprun worker --once >/dev/null 2>&1 || true
	[ "$(run_field "$a" state)" = succeeded ]
	run oprun directory contoso --kind groups --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get objects.length)" = 3 ]
	# a sync that stops half way: the first snapshot stays whole
	b=$(submit_id test-dir contoso alice '{"kind":"groups","names":["Only","Two","Three"],"fail_after":2}')
	oprun worker --once >/dev/null 2>&1 || true
	[ "$(run_field "$b" state)" = failed ]
	run oprun directory contoso --kind groups --json
	[ "$(printf '%s' "$output" | json_eval '[o["displayName"] for o in d["objects"]]')" = '["HR Users","Finance","hr users"]' ]
	# case-insensitive exact match, every hit; other tenants see nothing
	r=$(submit_id test-dir-read contoso bob '{"kind":"groups","name":"HR USERS"}')
	oprun worker --once >/dev/null 2>&1 || true
	[ "$(run_field "$r" result.hits)" = 2 ]
	[ "$(run_field "$r" result.ids)" = '["id-0","id-2"]' ]
	[[ "$(run_field "$r" result.write_error)" == *"may only read the directory cache"* ]]
	f=$(submit_id test-dir-read fabrikam bob '{"kind":"groups","name":"Finance"}')
	oprun worker --once >/dev/null 2>&1 || true
	[ "$(run_field "$f" result.hits)" = 0 ]
	[ "$(run_field "$f" result.synced_at)" = 0 ]
	# a second full sync replaces the first
	c=$(submit_id test-dir contoso alice '{"kind":"groups","names":["New"]}')
	oprun worker --once >/dev/null 2>&1 || true
	run oprun directory contoso --json
	[ "$(printf '%s' "$output" | json_get kinds.0.count)" = 1 ]
	[ "$(printf '%s' "$output" | json_get kinds.1.synced_at)" = null ]
	run oprun directory contoso --kind groups --name finance
	[ "${lines[0]}" = "0 groups" ]
	run oprun directory nosuch
	[ "$status" -eq 2 ]
	[[ "$output" == *"no [tenant nosuch] section"* ]]
	assert_store_ok
}

@test "sealed values: the plain value is nowhere in the store; only export --reveal-secrets writes it" {
	secret="pl41n-$RANDOM-wifi-key"
	run oprun keygen "$TEST_DIR/key"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$TEST_DIR/key")" = 600 ]
	run oprun keygen "$TEST_DIR/key"
	[ "$status" -ne 0 ]
	[[ "$output" == *"never overwritten"* ]]
	key_config "$TEST_DIR/key"
	id=$(docs_run "{\"count\":2,\"secret\":\"$secret\"}")
	[ "$(run_field "$id" state)" = succeeded ]
	[[ "$(oprun docs "$id" secret.json | json_get value)" == oprun-sealed:v1:* ]]
	! grep -a -q "$secret" "$TEST_DIR"/store/*.mdb
	u=$(submit_id test-unseal contoso alice "{\"run\":$id}")
	oprun worker --once >/dev/null 2>&1 || true
	[ "$(run_field "$u" result.plain_bytes)" = "${#secret}" ]
	run oprun export "$id" "$TEST_DIR/plain"
	[ "$status" -eq 0 ]
	! grep -r -q "$secret" "$TEST_DIR/plain"
	run oprun export "$id" "$TEST_DIR/revealed" --reveal-secrets
	[ "$status" -eq 0 ]
	grep -q "$secret" "$TEST_DIR/revealed/secret.json"
	[ "$(stat -c %a "$TEST_DIR/revealed/secret.json")" = 600 ]
	# a key file others can read is refused, and so is sealing without one
	chmod 644 "$TEST_DIR/key"
	run oprun config check
	[ "$status" -eq 2 ]
	[[ "$output" == *"[store] secrets_key_file $TEST_DIR/key can be read by group or others (mode 0644): run \`chmod 600 $TEST_DIR/key\`"* ]]
	id2=$(docs_run "{\"count\":1,\"secret\":\"x\"}")
	[ "$(run_field "$id2" state)" = failed ]
	[[ "$(run_field "$id2" reason)" == *"can be read by group or others"*"chmod 600"* ]]
	write_config
	id3=$(docs_run "{\"count\":1,\"secret\":\"x\"}")
	[[ "$(run_field "$id3" reason)" == *"set [store] secrets_key_file"* ]]
}

@test "export: two exports are byte-identical; a non-empty directory is refused without --force" {
	id=$(docs_run '{"count":5}')
	run oprun export "$id" "$TEST_DIR/e1"
	[ "$status" -eq 0 ]
	[ "$output" = "exported 5 documents of run $id to $TEST_DIR/e1" ]
	oprun export "$id" "$TEST_DIR/e2" >/dev/null
	diff -r "$TEST_DIR/e1" "$TEST_DIR/e2"
	run oprun export "$id" "$TEST_DIR/e1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not empty"*"--force"* ]]
	run oprun export "$id" "$TEST_DIR/e1" --force
	[ "$status" -eq 0 ]
	# keys in a stable (sorted) order
	[ "$(head -2 "$TEST_DIR/e1/items/00001.json" | tail -1 | tr -d '\t')" = '"attempt":1,' ]
	# a running or queued run is not exported
	q=$(submit_id test-docs contoso alice '{"count":1,"bytes":1}')
	run oprun export "$q" "$TEST_DIR/e3"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is queued: export it once it has finished"* ]]
}

@test "prune keeps runs that hold documents unless --with-documents" {
	id=$(docs_run '{"count":2}')
	plain=$(submit_id test-instant contoso alice '{}')
	oprun worker --once >/dev/null 2>&1 || true
	run oprun prune --older-than 0
	[ "$status" -eq 0 ]
	[[ "$output" == *"pruned 1 terminal runs"* ]]
	[[ "$output" == *"kept 1 runs that hold documents"*"--with-documents"* ]]
	[ "$(run_field "$id" state)" = succeeded ]
	run oprun prune --older-than 0 --with-documents
	[[ "$output" == *"pruned 1 terminal runs"* ]]
	run oprun docs "$id"
	[ "$status" -eq 2 ]
	assert_store_ok
}

@test "export: an interrupted export leaves only whole files, and the next one finishes it" {
	id=$(docs_run '{"count":1500,"bytes":8000}')
	[ "$(run_field "$id" state)" = succeeded ]
	interrupted=
	for try in 1 2 3 4 5 6; do
		rm -rf "$TEST_DIR/e"
		"$OPRUN_BUILD/oprun" -c "$CFG" export "$id" "$TEST_DIR/e" \
		    >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -KILL "$pid" 2>/dev/null || true
		st=0
		wait "$pid" || st=$?
		if [ "$st" -eq 137 ]; then
			interrupted=1
			break
		fi
	done
	[ -n "$interrupted" ]
	# Every file there is whole JSON; at most a hidden temp file is left.
	find "$TEST_DIR/e" -name '*.json' -print0 | xargs -0 -r python3 -c '
import json, sys
for p in sys.argv[1:]:
    json.load(open(p))
'
	[ "$(find "$TEST_DIR/e" -type f ! -name '*.json' ! -name '.oprun-export.*.tmp' | wc -l)" = 0 ]
	# The next export (with --force) removes the leftover and completes.
	run oprun export "$id" "$TEST_DIR/e" --force
	[ "$status" -eq 0 ]
	[ "$(find "$TEST_DIR/e" -type f | wc -l)" = 1500 ]
	# SIGTERM stops an export between two files, removing its temp file.
	rm -rf "$TEST_DIR/t"
	"$OPRUN_BUILD/oprun" -c "$CFG" export "$id" "$TEST_DIR/t" >/dev/null 2>"$TEST_DIR/t.err" &
	pid=$!
	sleep 0.05
	kill -TERM "$pid" 2>/dev/null || true
	st=0
	wait "$pid" || st=$?
	if [ "$st" -eq 143 ]; then
		# killed before it began to write: nothing is there
		[ "$(find "$TEST_DIR/t" -type f 2>/dev/null | wc -l)" = 0 ]
	elif [ "$st" -ne 0 ]; then
		grep -q "interrupted by signal 15" "$TEST_DIR/t.err"
		[ "$(find "$TEST_DIR/t" -name '.oprun-export.*' | wc -l)" = 0 ]
	fi
}
