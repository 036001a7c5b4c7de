#!/usr/bin/env bats
# Bad input is refused before anything is written: exit status 2, one line
# on stderr that names what is wrong, no run and no notification.  Config
# problems are reported as FILE:LINE by `oprun config check`.

bats_require_minimum_version 1.5.0
load helpers

# snapshot: what the store shows (runs, alice's and bob's notifications).
snapshot() {
	oprun runs --json --limit 10000
	oprun notifications --user alice --json
	oprun notifications --user bob --json
}

# refused_submit PATTERN ARGS...: `oprun submit ARGS` exits 2 with nothing
# on stdout and exactly one line on stderr matching the glob PATTERN, and
# writes nothing: runs and notifications are as before (on an empty store:
# `runs --json` is still [] and the notification lists are empty).
refused_submit() {
	local pattern=$1 before after
	shift
	before=$(snapshot)
	run --separate-stderr oprun submit "$@"
	echo "status=$status stdout=[$output] stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == $pattern ]]
	after=$(snapshot)
	[ "$after" = "$before" ]
}

# The store is empty: no run, no notification.
assert_empty_store() {
	assert_nothing_written alice bob
}

@test "an unknown operation type is refused and names the type" {
	refused_submit "oprun submit: unknown operation type 'test-nope'*" \
	    test-nope --tenant contoso --initiator alice --payload '{}'
	assert_empty_store
}

@test "a JSON array payload is refused as not an object" {
	refused_submit "oprun submit: payload: must be a JSON object*" \
	    test-instant --tenant contoso --initiator alice --payload '[1]'
	assert_empty_store
}

@test "a payload that is not JSON is refused as not valid JSON" {
	refused_submit "oprun submit: payload: not valid JSON*" \
	    test-instant --tenant contoso --initiator alice --payload 'not json'
	assert_empty_store
}

@test "a JSON scalar or trailing garbage is refused" {
	refused_submit "oprun submit: payload: *" \
	    test-instant --tenant contoso --initiator alice --payload '"text"'
	refused_submit "oprun submit: payload: *" \
	    test-instant --tenant contoso --initiator alice --payload '{} x'
	refused_submit "oprun submit: payload: *" \
	    test-instant --tenant contoso --initiator alice --payload ''
	assert_empty_store
}

@test "a payload with a duplicate key is refused, naming the key" {
	refused_submit "oprun submit: payload.a: duplicate key*" \
	    test-instant --tenant contoso --initiator alice --payload '{"a":1,"a":2}'
	assert_empty_store
}

@test "a payload number out of range is refused" {
	refused_submit "oprun submit: payload.n: number out of range*" \
	    test-instant --tenant contoso --initiator alice --payload '{"n":1e400}'
	assert_empty_store
}

@test "a payload over max_payload_bytes is refused and names the limit" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	max_payload_bytes = 64
	[tenant contoso]
	INI
	big=$(printf '{"a":"%s"}' "$(printf 'x%.0s' $(seq 100))")
	refused_submit "oprun submit: payload is 108 bytes; the limit is 64*max_payload_bytes*" \
	    test-instant --tenant contoso --initiator alice --payload "$big"
	printf '%s' "$big" >"$TEST_DIR/big.json"
	refused_submit "oprun submit: --payload-file *big.json*64*max_payload_bytes*" \
	    test-instant --tenant contoso --initiator alice \
	    --payload-file "$TEST_DIR/big.json"
	assert_empty_store
}

@test "a payload of exactly max_payload_bytes is accepted" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	max_payload_bytes = 64
	[tenant contoso]
	INI
	# {"a":"..."} is 8 bytes plus the string.
	ok=$(printf '{"a":"%s"}' "$(printf 'x%.0s' $(seq 56))")
	[ "${#ok}" -eq 64 ]
	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload "$ok"
	[ "$status" -eq 0 ]
	refused_submit "*payload is 65 bytes; the limit is 64*" \
	    test-instant --tenant contoso --initiator bob --payload "${ok%\"\}}x\"}"
	[ "$(runs_count)" -eq 1 ]
}

@test "a missing payload file is named without blaming the size limit" {
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator alice --payload-file "$TEST_DIR/missing.json"
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *missing.json* ]]
	[[ "$stderr" == *"No such file"* ]]
	# The file does not exist: the size limit has nothing to do with it.
	[[ "$stderr" != *max_payload_bytes* ]]
	assert_nothing_written alice
}

@test "an unknown tenant is refused and says how to add it" {
	refused_submit "oprun submit: unknown tenant 'northwind'; add a \\[tenant northwind\\] section*" \
	    test-instant --tenant northwind --initiator alice --payload '{}'
	assert_empty_store
}

@test "a payload the plugin's validate refuses is refused with the plugin's reason" {
	refused_submit "oprun submit: test-items refused the payload: payload.count: *" \
	    test-items --tenant contoso --initiator alice --payload '{"count":-1}'
	refused_submit "oprun submit: test-items refused the payload: payload.fail\\[0\\]: *" \
	    test-items --tenant contoso --initiator alice \
	    --payload '{"count":3,"fail":[7]}'
	refused_submit "oprun submit: test-items refused the payload: payload: unknown key \"colour\"*" \
	    test-items --tenant contoso --initiator alice \
	    --payload '{"count":3,"colour":"red"}'
	refused_submit "oprun submit: test-slow refused the payload: payload.seconds: *" \
	    test-slow --tenant contoso --initiator alice --payload '{"seconds":"soon"}'
	assert_empty_store
}

@test "a submit without --tenant is refused" {
	refused_submit "oprun submit: --tenant and --initiator are required*" \
	    test-instant --initiator alice --payload '{}'
	assert_empty_store
}

@test "a submit without --initiator is refused" {
	refused_submit "oprun submit: --tenant and --initiator are required*" \
	    test-instant --tenant contoso --payload '{}'
	assert_empty_store
}

@test "an initiator name with forbidden characters is refused" {
	refused_submit "oprun submit: --initiator 'al ice': *" \
	    test-instant --tenant contoso --initiator 'al ice' --payload '{}'
	assert_empty_store
}

@test "an empty target is refused" {
	refused_submit "oprun submit: --target: *" \
	    test-instant --tenant contoso --initiator alice --target '' \
	    --payload '{}'
	assert_empty_store
}

@test "--payload and --payload-file together are refused" {
	printf '{}' >"$TEST_DIR/p.json"
	refused_submit "oprun submit: give exactly one of --payload JSON or --payload-file FILE*" \
	    test-instant --tenant contoso --initiator alice --payload '{}' \
	    --payload-file "$TEST_DIR/p.json"
	assert_empty_store
}

@test "a submit with neither --payload nor --payload-file is refused" {
	refused_submit "oprun submit: give exactly one of --payload JSON or --payload-file FILE*" \
	    test-instant --tenant contoso --initiator alice
	assert_empty_store
}

@test "an unknown option is refused and named" {
	refused_submit "oprun submit: unknown option --tennant*" \
	    test-instant --tennant contoso --initiator alice --payload '{}'
	assert_empty_store
}

@test "read commands refuse a bad run id or filter with exit status 2" {
	run --separate-stderr oprun show abc
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"'abc' is not a run id"* ]]
	run --separate-stderr oprun show 0
	[ "$status" -eq 2 ]
	run --separate-stderr oprun show 42
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"run 42 does not exist"* ]]
	run --separate-stderr oprun runs --state done
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--state 'done'"* ]]
	run --separate-stderr oprun runs --limit 0
	[ "$status" -eq 2 ]
	run --separate-stderr oprun wait 42 --timeout 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"run 42 does not exist"* ]]
	run --separate-stderr oprun cancel 42
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"run 42 does not exist"* ]]
	run --separate-stderr oprun frobnicate
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown command 'frobnicate'"* ]]
}

# ---- configuration ------------------------------------------------------

@test "a good configuration prints configuration OK" {
	run --separate-stderr oprun config check
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
	[ -z "$stderr" ]
}

@test "an unknown section is reported with its file and line" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	[tenants fabrikam]
	description = typo in the section name
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "$CFG:7: unknown section [tenants fabrikam]"* ]]
	[[ "$output" != *"configuration OK"* ]]
}

@test "an unknown key is reported with its file and line" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	plugin_directory = plugins
	[tenant contoso]
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "$CFG:6: unknown key plugin_directory in [runner]"* ]]
}

@test "an unknown key in a tenant section is reported with its line" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	description = Contoso
	colour = blue
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "$CFG:8: unknown key colour in [tenant contoso]"* ]]
}

@test "a bad value is reported with its file, line and the values allowed" {
	cat >"$CFG" <<-INI
	# comment lines count too
	[store]
	path = store

	durability = sometimes
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "$CFG:5: durability = sometimes: expected full or relaxed" ]
}

@test "several config problems are each reported with their own line" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = sometimes
	[runner]
	plugin_dir = plugins
	max_payload_bytes = lots
	bogus = 1
	[weird]
	x = 1
	[tenant contoso]
	[log]
	level = loud
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[0]}" == "$CFG:3: durability = sometimes:"* ]]
	[[ "${lines[1]}" == "$CFG:6: max_payload_bytes = lots: expected a whole number"* ]]
	[[ "${lines[2]}" == "$CFG:7: unknown key bogus in [runner]"* ]]
	[[ "${lines[3]}" == "$CFG:8: unknown section [weird]"* ]]
	[[ "${lines[4]}" == "$CFG:12: level = loud: expected debug, info, warn or error" ]]
}

@test "a key set twice and a section given twice are reported with their lines" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	path = other
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	[tenant contoso]
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "$CFG:3: path is set twice in [store]"* ]]
	[[ "${lines[1]}" == "$CFG:8: [tenant contoso] appears twice (first at line 7)"* ]]
}

@test "a long value is one config line: a valid config with one is accepted" {
	long=$(printf 'x%.0s' $(seq 300))
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	description = $long
	[tenant fabrikam]
	INI
	run oprun config check
	echo "$output"
	# Accept it, or refuse it for its length on its own line (7) - not
	# with a syntax error on the next line.
	if [ "$status" -ne 0 ]; then
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "$CFG:7: "* ]]
		[[ "${lines[0]}" != *"syntax error"* ]]
	else
		[ "$output" = "configuration OK" ]
	fi
}

@test "line numbers after a long config line are still right" {
	long=$(printf 'x%.0s' $(seq 300))
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	description = $long
	[tenant fabrikam]
	colour = blue
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CFG:9: unknown key colour in [tenant fabrikam]"* ]]
}

@test "a missing config file is reported and every command exits 2" {
	run --separate-stderr "$OPRUN_BUILD/oprun" -c "$TEST_DIR/nope.ini" config check
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"nope.ini: cannot open configuration"* ]]
	run --separate-stderr "$OPRUN_BUILD/oprun" -c "$TEST_DIR/nope.ini" runs
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "a bad config refuses submit with the FILE:LINE problem and writes nothing" {
	run oprun submit test-instant --tenant contoso --initiator alice \
	    --payload '{}'
	[ "$status" -eq 0 ]
	sed -i 's/^durability = relaxed$/durability = sometimes/' "$CFG"
	lineno=$(grep -n 'durability = sometimes' "$CFG" | cut -d: -f1)
	[ "$lineno" -eq 3 ]
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator bob --payload '{"b":1}'
	echo "$stderr"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "oprun: $CFG:$lineno: durability = sometimes"* ]]
	# Restore a good config: still only the first run.
	write_config
	[ "$(runs_count)" -eq 1 ]
}

# ---- text is clean where it is stored ---------------------------------

@test "names and a target that are not UTF-8 are refused, naming the field and the byte offset" {
	refused_submit "oprun submit: --tenant: invalid UTF-8 at byte offset 3 (0xff); give it as UTF-8 text*" \
	    test-instant --tenant $'con\xfftoso' --initiator alice --payload '{}'
	refused_submit "oprun submit: --initiator: invalid UTF-8 at byte offset 2 (0xc3)*" \
	    test-instant --tenant contoso --initiator $'al\xc3' --payload '{}'
	refused_submit "oprun submit: TYPE: invalid UTF-8 at byte offset 5 (0xe9)*" \
	    $'test-\xe9' --tenant contoso --initiator alice --payload '{}'
	# An encoded surrogate is not UTF-8 either.
	refused_submit "oprun submit: --target: invalid UTF-8 at byte offset 3 (0xed)*" \
	    test-instant --tenant contoso --initiator alice \
	    --target $'pol\xed\xa0\x80' --payload '{}'
	assert_empty_store
}

@test "a target with a control character (C0, DEL or C1) is refused with its offset" {
	refused_submit "oprun submit: --target: control character at byte offset 1; remove it*" \
	    test-instant --tenant contoso --initiator alice \
	    --target $'a\x1b[2J' --payload '{}'
	refused_submit "oprun submit: --target: control character at byte offset 3*" \
	    test-instant --tenant contoso --initiator alice \
	    --target $'abc\x7f' --payload '{}'
	refused_submit "oprun submit: --target: control character at byte offset 2*" \
	    test-instant --tenant contoso --initiator alice \
	    --target $'ab\xc2\x9b' --payload '{}'
	assert_empty_store
}

@test "a payload that is not UTF-8 is refused with the byte offset, inline or from a file" {
	refused_submit "oprun submit: payload: invalid UTF-8 at byte offset 9 (0xe9); give the text as UTF-8*" \
	    test-instant --tenant contoso --initiator alice \
	    --payload $'{"a":"caf\xe9"}'
	printf '{\n  "a": "\xc0\xaf"\n}\n' >"$TEST_DIR/latin.json"
	refused_submit "oprun submit: payload: invalid UTF-8 at byte offset 10 (0xc0)*" \
	    test-instant --tenant contoso --initiator alice \
	    --payload-file "$TEST_DIR/latin.json"
	assert_empty_store
}

@test "cancel --as with a control character is refused before anything is recorded" {
	id=$(submit_id test-instant contoso alice '{}')
	run --separate-stderr oprun cancel "$id" --as $'eve\x1b[2J'
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "oprun cancel: --as: control character at byte offset 3; remove it"* ]]
	[ "$(run_field "$id" state)" = queued ]
}

# ---- input is taken exactly or refused --------------------------------

@test "a payload file with a NUL byte is refused with its offset, not cut short" {
	printf '{"a":1}\0{"b":2}' >"$TEST_DIR/nul.json"
	refused_submit "oprun submit: --payload-file $TEST_DIR/nul.json: NUL byte at byte offset 7; a payload is JSON text without NUL bytes*" \
	    test-instant --tenant contoso --initiator alice \
	    --payload-file "$TEST_DIR/nul.json"
	# A UTF-16 file: NUL bytes from the start.
	printf '{\0}\0' >"$TEST_DIR/utf16.json"
	refused_submit "*utf16.json: NUL byte at byte offset 1;*iconv -f UTF-16*" \
	    test-instant --tenant contoso --initiator alice \
	    --payload-file "$TEST_DIR/utf16.json"
	assert_empty_store
}

@test "an empty [store] path is refused by config check and by every command, with FILE:LINE" {
	cat >"$CFG" <<-INI
	[store]
	path =
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	INI
	run --separate-stderr oprun config check
	echo "stdout=[$output] stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "$CFG:2: path is empty; set path = DIR"* ]]
	for cmd in "runs" "show 1" "check-store" "worker --once"; do
		run --separate-stderr oprun $cmd
		[ "$status" -eq 2 ]
		[[ "${stderr_lines[0]}" == "oprun: $CFG:2: path is empty"* ]]
	done
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator alice --payload '{}'
	[ "$status" -eq 2 ]
	[[ "${stderr_lines[0]}" == "oprun: $CFG:2: path is empty"* ]]
	# Nothing was created next to the config file.
	[ ! -e "$TEST_DIR/data.mdb" ]
}

@test "an empty plugin_dir is refused with FILE:LINE" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	[runner]
	plugin_dir =
	INI
	run oprun config check
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "$CFG:4: plugin_dir is empty; set plugin_dir = DIR"* ]]
}

# ---- every error says what and how to fix -----------------------------

@test "notifications --mark-read with a bad id says notification id" {
	run --separate-stderr oprun notifications --user alice --mark-read abc
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "oprun notifications: 'abc' is not a notification id"* ]]
	[[ "$stderr" != *"run id"* ]]
}

@test "prune --older-than -1 says the value is negative, not missing" {
	run --separate-stderr oprun prune --older-than -1
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "oprun prune: --older-than '-1': a number of days cannot be negative; give whole days from 0 to 36500"* ]]
	[[ "$stderr" != *required* ]]
	run --separate-stderr oprun prune --older-than soon
	[ "$status" -eq 2 ]
	[[ "$stderr" == "oprun prune: --older-than 'soon': expected whole days from 0 to 36500"* ]]
	run --separate-stderr oprun prune
	[ "$status" -eq 2 ]
	[[ "$stderr" == "oprun prune: --older-than DAYS is required"* ]]
}

@test "wait on a run that does not exist says so exactly as show does" {
	run --separate-stderr oprun show 12345
	[ "$status" -eq 2 ]
	show_msg=${stderr#oprun show: }
	run --separate-stderr oprun wait 12345
	echo "stderr=[$stderr] show=[$show_msg]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "oprun wait: $show_msg" ]
	[ "$show_msg" = 'run 12345 does not exist; list runs with `oprun runs`' ]
}

@test "-c after the command says where -c goes" {
	run --separate-stderr "$OPRUN_BUILD/oprun" runs -c "$CFG"
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "oprun runs: -c FILE is a global option and goes before the command: oprun -c FILE runs"* ]]
	run --separate-stderr "$OPRUN_BUILD/oprun" show 1 -c "$CFG"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"oprun -c FILE show"* ]]
}

@test "config check goes on after a duplicated section and reports every problem" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	description = one
	[tenant contoso]
	colour = blue
	[log]
	level = loud
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == "$CFG:8: [tenant contoso] appears twice (first at line 6)"* ]]
	[[ "${lines[1]}" == "$CFG:9: unknown key colour in [tenant contoso]"* ]]
	[[ "${lines[2]}" == "$CFG:11: level = loud"* ]]
}

@test "an unknown key names the section's known keys instead of pointing at the sample" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	durabilty = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	INI
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "$CFG:3: unknown key durabilty in [store]; the known keys are path, durability, secrets_key_file, map_size_mb" ]
	[[ "$output" != *"conf/oprun.ini"* ]]
}
