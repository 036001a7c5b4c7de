#!/usr/bin/env bats
# Text is clean where it is stored and safe where it is shown: what a
# plugin hands the host (reasons, failures, results, log lines) is stored
# as valid UTF-8; terminal output and log lines carry no control
# character a message could use to forge a line or drive the terminal;
# --json is always valid UTF-8 JSON; payload numbers keep every digit.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	oprun_setup
	install -m 644 "$OPRUN_BUILD/test-plugins/rawtext.so" "$PLUGIN_DIR/"
}

# assert_terminal_safe TEXT: TEXT is valid UTF-8 and holds no control
# character (C0, DEL, C1) but newlines; with a second argument N, it has
# exactly N lines.
assert_terminal_safe() {
	printf '%s' "$1" | python3 -c '
import sys
raw = sys.stdin.buffer.read()
text = raw.decode("utf-8")          # raises on invalid UTF-8
bad = [hex(ord(c)) for c in text
       if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
if bad:
    sys.exit("control characters: %s" % bad)
if len(sys.argv) > 1 and text.count("\n") + 1 != int(sys.argv[1]):
    sys.exit("%d lines, want %s" % (text.count("\n") + 1, sys.argv[1]))
' ${2:+"$2"}
}

# assert_utf8_json TEXT: TEXT decodes as UTF-8 (strictly) and parses as
# JSON.
assert_utf8_json() {
	printf '%s' "$1" | python3 -c '
import json, sys
json.loads(sys.stdin.buffer.read().decode("utf-8"))
'
}

# A failed run of test-rawtext, run by a worker whose log is kept.
hostile_run() {
	id=$(submit_id test-rawtext contoso alice '{}')
	oprun worker --once 2>"$TEST_DIR/worker.log"
	[ "$(run_field "$id" state)" = failed ]
}

@test "a plugin's invalid UTF-8 is replaced by U+FFFD before it is stored" {
	hostile_run
	run --separate-stderr oprun show "$id" --json
	[ "$status" -eq 0 ]
	assert_utf8_json "$output"
	reason=$(printf '%s' "$output" | json_get reason)
	[[ "$reason" == "reason: bad "$'\xef\xbf\xbd\xef\xbf\xbd'" bytes, cut "$'\xef\xbf\xbd'", "* ]]
	item=$(printf '%s' "$output" | json_get failures.items.0.item)
	[[ "$item" == "item-"$'\xef\xbf\xbd'* ]]
	[[ "$(printf '%s' "$output" | json_get result.note)" == "result "$'\xef\xbf\xbd'* ]]
	# The notification that reports the end carries the same clean text.
	run --separate-stderr oprun notifications --user alice --json
	assert_utf8_json "$output"
	[[ "$output" == *"bad "$'\xef\xbf\xbd\xef\xbf\xbd'" bytes"* ]]
	assert_store_ok
}

@test "show prints a plugin's text without control characters, one line per field" {
	hostile_run
	run --separate-stderr oprun show "$id"
	[ "$status" -eq 0 ]
	assert_terminal_safe "$output"
	[[ "$output" == *$'\n'"  reason     reason: bad "* ]]
	[[ "$output" == *'\x1b]0;owned\x07\x1b[2J\u009b31m\x7f\nts=2026-01-01T00:00:00.000Z level=error msg=forged'* ]]
	[[ "$output" == *$'\n'"    item-"$'\xef\xbf\xbd''\x1b[2J\nforged: message: bad'* ]]
	# No line of its own starts with the forged text.
	[[ "$output" != *$'\n'"ts="* ]]
	# Exactly the lines show prints for such a run: 11 fields, history
	# with 3 events, failures with 1 item.
	[ "${#lines[@]}" -eq 17 ]
}

@test "runs, wait and notifications print a plugin's text without control characters" {
	hostile_run
	run --separate-stderr oprun runs
	[ "$status" -eq 0 ]
	assert_terminal_safe "$output" 2
	run --separate-stderr oprun wait "$id"
	[ "$status" -eq 1 ]
	assert_terminal_safe "$output" 1
	[[ "$output" == "run $id failed: "*"; reason: bad "* ]]
	run --separate-stderr oprun notifications --user alice
	[ "$status" -eq 0 ]
	assert_terminal_safe "$output" 3
	[[ "${lines[0]}" == *"finished failed"*'\x1b[2J'*'\nts=2026'* ]]
}

@test "a plugin's log line cannot forge a second log line or send escapes" {
	hostile_run
	log=$(cat "$TEST_DIR/worker.log")
	echo "$log"
	assert_terminal_safe "$log" 2
	[[ "$log" == *'msg="plugin rawtext: log: bad '*'\x1b]0;owned\x07'*'\nts=2026-01-01T00:00:00.000Z level=error msg=forged"'* ]]
	[ "$(grep -c '^ts=' "$TEST_DIR/worker.log")" -eq 2 ]
}

@test "a plugin's refusal at submit is one line without control characters" {
	run --separate-stderr oprun submit test-rawtext --tenant contoso \
	    --initiator alice --payload '{"refuse":true}'
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_terminal_safe "$stderr" 1
	[[ "$stderr" == "oprun submit: test-rawtext refused the payload: refused: bad "*'\nts=2026'* ]]
	[ "$(runs_count)" -eq 0 ]
}

@test "a C1 control or DEL in a payload string is escaped in show and --json" {
	id=$(submit_id test-instant contoso alice '{"s":"\u009b2J \u007f \u001b[0m"}')
	run --separate-stderr oprun show "$id"
	[ "$status" -eq 0 ]
	assert_terminal_safe "$output"
	[[ "$output" == *'  payload    {"s":"\u009b2J \x7f \u001b[0m"}'* ]]
	for cmd in "show $id --json" "runs --json"; do
		run --separate-stderr oprun $cmd
		[ "$status" -eq 0 ]
		assert_utf8_json "$output"
		assert_terminal_safe "$output" 1
		[[ "$output" == *'"payload":{"s":"\u009b2J \u007f \u001b[0m"}'* ]]
	done
}

@test "integers beyond 2^53 survive submit, show --json and runs --json byte for byte" {
	payload='{"big":12345678901234567890,"neg":-9007199254740993,"ok":9007199254740991}'
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator alice --payload "$payload" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"payload\":$payload,"* ]]
	id=$(printf '%s' "$output" | json_get id)
	run --separate-stderr oprun show "$id" --json
	[[ "$output" == *"\"payload\":$payload,"* ]]
	run --separate-stderr oprun runs --json
	[[ "$output" == *"\"payload\":$payload,"* ]]
	run --separate-stderr oprun show "$id"
	[[ "$output" == *"  payload    $payload"* ]]
	# Another integer is another run: 9007199254740992 is not deduplicated
	# into ...993, although both are the same double.
	a=$(submit_id test-instant contoso alice '{"n":9007199254740993}')
	b=$(submit_id test-instant contoso alice '{"n":9007199254740992}')
	[ "$a" != "$b" ]
	# One spelling per value: 1e20 and 100000000000000000000 are one run.
	c=$(submit_id test-instant contoso alice '{"n":1e20}')
	d=$(submit_id test-instant contoso alice '{"n":100000000000000000000}')
	[ "$c" = "$d" ]
	[[ "$(oprun show "$c" --json)" == *'"payload":{"n":100000000000000000000}'* ]]
}
