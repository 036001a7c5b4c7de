#!/usr/bin/env bats
# [schedule NAME] sections end to end, through the real `oprun serve`:
# due slots are submitted on time through the normal submit path (as
# "schedule NAME", for the schedule's initiator); a slot whose previous
# run is still active is deduplicated onto it, never stacked; slots
# missed while serve was down are submitted once at the next start;
# `oprun schedules` shows the next due time and the last run; SIGHUP
# picks up a changed schedule; `config check` refuses a bad schedule
# with one line per problem.
#
# Slots of every = N fall on multiples of N since the epoch, so a test
# knows them from the clock alone.  Each test runs its own serve (see
# serve_helpers.bash) and takes a few seconds.

bats_require_minimum_version 1.5.0
load helpers
load serve_helpers

setup() {
	serve_setup
}

teardown() {
	local rc=0
	# In the sanitized build, a report from serve or a schedule-submit
	# child (whose exit status nothing checks) fails the test.
	if grep -q -s Sanitizer "${SERVE_LOG:-/nonexistent}"; then
		grep -h -s -A12 Sanitizer "$SERVE_LOG" | head -n 60 >&2
		rc=1
	fi
	serve_teardown
	return "$rc"
}

# sched_config NAME TYPE RULE [LINE...]: serve_config with one schedule
# for tenant contoso and initiator alice; RULE is its every/cron line.
sched_config() {
	local name=$1 type=$2 rule=$3
	shift 3
	serve_config "[schedule $name]" "type = $type" 'tenant = contoso' \
	    'initiator = alice' "$rule" "$@"
}

# log_fires [FROM_LINE]: the schedules' submits in $SERVE_LOG from line
# FROM_LINE on (default 1), one a line: "SLOT_MS RUN_ID queued|dedup".
log_fires() {
	tail -n +"${1:-1}" "$SERVE_LOG" | python3 -c '
import datetime, re, sys
def ms(t):
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return round(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
for line in sys.stdin:
    m = re.search(r"slot (\S+Z):? (run (\d+) queued|deduplicated onto run (\d+))", line)
    if m:
        kind = "queued" if m.group(3) else "dedup"
        print(ms(m.group(1)), m.group(3) or m.group(4), kind)
'
}

# wait_fires N [TENTHS] [FROM_LINE]: waits until the log shows N
# submits (queued or deduplicated) from FROM_LINE on.
wait_fires() {
	local want=$1 n=${2:-100} from=${3:-1} i
	for i in $(seq "$n"); do
		[ "$(log_fires "$from" | wc -l)" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "serve log shows $(log_fires "$from" | wc -l) submits, expected $want" >&2
	return 1
}

@test "a schedule every 2s submits a run at each slot, on time, as the schedule for its initiator" {
	use_plugins instant
	sched_config tick test-instant 'every = 2s' 'payload = {"from": "schedule"}'
	start_serve
	wait_fires 2 150
	stop_serve
	log_fires >"$TEST_DIR/fires"
	cat "$TEST_DIR/fires"
	prev=
	while read -r slot id kind; do
		[ "$kind" = queued ]
		# Slots are whole multiples of 2 s, one after the other.
		[ $((slot % 2000)) -eq 0 ]
		[ -z "$prev" ] || [ "$slot" -eq $((prev + 2000)) ]
		prev=$slot
		# Submitted at its slot: never before, and well within it.
		created=$(run_ms "$id" created_at)
		echo "# run $id created $((created - slot)) ms after its slot" >&3
		[ "$created" -ge "$slot" ]
		[ $((created - slot)) -lt 1500 ]
		# Through the normal submit path: the schedule's initiator and
		# payload, the schedule named as the actor, a notification.
		[ "$(run_field "$id" initiator)" = alice ]
		[ "$(run_field "$id" payload)" = '{"from":"schedule"}' ]
		[ "$(oprun show "$id" --json | json_eval 'd["history"][0]["actor"]')" = "schedule tick" ]
	done <"$TEST_DIR/fires"
	# They ran (the last may have been queued just as serve stopped).
	[ "$(run_field 1 state)" = succeeded ]
	[ "$(wc -l <"$TEST_DIR/fires")" -ge 2 ]
	oprun notifications --user alice | grep -q "run 1 (test-instant on contoso) queued"
	! grep -q "slots missed" "$SERVE_LOG"
	assert_store_ok
}

@test "while its run is still running, the next slots are deduplicated onto it, never stacked" {
	use_plugins slow
	sched_config slowpoke test-slow 'every = 1s' 'payload = {"seconds": 1.5}'
	start_serve
	# Slot t starts run 1, which sleeps 1.5 s; slot t+1 finds it still
	# running; slot t+2 starts run 2.
	wait_fires 1 50
	for i in $(seq 60); do
		active=$(($(runs_count --state queued) + $(runs_count --state running)))
		[ "$active" -le 1 ] || { echo "$active active runs" >&2; false; }
		[ "$(log_fires | awk '$3 == "queued"' | wc -l)" -ge 2 ] && break
		sleep 0.1
	done
	stop_serve
	log_fires | tee "$TEST_DIR/fires"
	first=$(awk 'NR == 1 { print $2 }' "$TEST_DIR/fires")
	# The slots after the first went onto run 1 while it ran...
	[ "$(awk -v id="$first" '$3 == "dedup" && $2 == id' "$TEST_DIR/fires" | wc -l)" -ge 1 ]
	grep -q "deduplicated onto run $first, which is still running" "$SERVE_LOG"
	# ...and the next run was made only once run 1 had ended.
	second=$(awk '$3 == "queued" { n++; if (n == 2) print $2 }' "$TEST_DIR/fires")
	[ -n "$second" ]
	[ "$(run_field "$first" state)" = succeeded ]
	[ "$(run_ms "$second" created_at)" -ge "$(run_ms "$first" finished_at)" ]
	# Every slot is one line: queued or deduplicated, none twice.
	[ "$(awk '{ print $1 }' "$TEST_DIR/fires" | sort | uniq -d | wc -l)" -eq 0 ]
	[ "$(runs_count)" -eq 2 ]
}

@test "slots missed while serve was stopped are submitted once at the next start" {
	use_plugins instant
	sched_config tick test-instant 'every = 1s'
	start_serve
	wait_fires 1 50
	stop_serve
	last=$(log_fires | awk 'END { print $1 }')
	before=$(runs_count)
	sleep 2.5
	from=$(($(wc -l <"$SERVE_LOG") + 1))
	restart=$(now_ms)
	start_serve
	wait_log "slots missed while the runner was down" 50
	# Let a regular slot or two follow the catch-up.
	wait_fires 2 50 "$from"
	stop_serve
	log_fires "$from" | tee "$TEST_DIR/fires"
	grep "slots missed" "$SERVE_LOG"
	missed=$(sed -n 's/.*schedule tick: \([0-9]*\) slots missed.*/\1/p' "$SERVE_LOG")
	echo "# $missed slots missed" >&3
	# Two or more slots passed while serve was down...
	[ "$missed" -ge 2 ]
	# ...and one submit, made at the start, stands for all of them: it
	# is for the last missed slot, and each slot after it is one submit.
	catchup=$(awk 'NR == 1 { print $1 }' "$TEST_DIR/fires")
	[ "$missed" -eq $(((catchup - last) / 1000)) ]
	[ "$(run_ms "$(awk 'NR == 1 { print $2 }' "$TEST_DIR/fires")" created_at)" -ge "$restart" ]
	awk -v c="$catchup" '$1 != c + (NR - 1) * 1000 { exit 1 }' "$TEST_DIR/fires"
	[ "$(awk '$3 == "queued"' "$TEST_DIR/fires" | wc -l)" -eq $(($(runs_count) - before)) ]
}

@test "a slot whose payload the plugin refuses is logged and skipped; serve carries on" {
	use_plugins items
	sched_config counted test-items 'every = 1s' 'payload = {"count": "five"}'
	start_serve
	wait_log "schedule counted: slot " 50
	wait_log "not submitted: test-items refused the payload: payload.count: must be an integer" 50
	grep -q "; the next slot is " "$SERVE_LOG"
	alive "$SERVE_PID"
	stop_serve
	[ "$(runs_count)" -eq 0 ]
	[ "$(oprun schedules --json | json_get 0.last_run)" = null ]
}

@test "oprun schedules shows each schedule's rule, next due time and last run" {
	use_plugins instant items
	sched_config tick test-instant 'every = 1s' \
	    '[schedule nightly]' 'type = test-items' 'tenant = fabrikam' \
	    'initiator = bob' 'payload = {"count": 3}' 'cron = 0 2 * * *' \
	    'jitter = 5m' \
	    '[schedule off]' 'type = test-instant' 'tenant = contoso' \
	    'initiator = bob' 'every = 6h' 'enabled = false'
	run oprun schedules --json
	[ "$status" -eq 0 ]
	printf '%s' "$output" | json_eval '[s["name"] for s in d]' | grep -qx '\["tick","nightly","off"\]'
	[ "$(printf '%s' "$output" | json_get 0.rule)" = "every 1s" ]
	[ "$(printf '%s' "$output" | json_get 0.last_run)" = null ]
	[ "$(printf '%s' "$output" | json_get 1.rule)" = "cron 0 2 * * * jitter 5m" ]
	[[ "$(printf '%s' "$output" | json_get 1.next_due)" == *T02:0[0-4]:[0-5][0-9].000Z ]]
	[ "$(printf '%s' "$output" | json_get 1.payload.count)" = 3 ]
	[ "$(printf '%s' "$output" | json_get 2.enabled)" = false ]
	[ "$(printf '%s' "$output" | json_get 2.next_due)" = null ]

	start_serve
	wait_fires 1 50
	stop_serve
	id=$(log_fires | awk 'END { print $2 }')
	slot=$(log_fires | awk 'END { print $1 }')
	run oprun schedules --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get 0.last_run)" = "$id" ]
	[ "$(printf '%s' "$output" | json_get 0.last_run_state)" = "$(run_field "$id" state)" ]
	# The next due slot is the one after the last handled.
	next=$(printf '%s' "$output" | json_get 0.next_due | python3 -c '
import datetime, sys
d = datetime.datetime.strptime(sys.stdin.read().strip(), "%Y-%m-%dT%H:%M:%S.%fZ")
print(round(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))')
	[ "$next" -gt "$slot" ]
	[ $(((next - slot) % 1000)) -eq 0 ]
	[ "$(printf '%s' "$output" | json_get 1.last_run)" = null ]

	run oprun schedules
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "${lines[0]}" == NAME*TYPE*TENANT*ENABLED*"NEXT DUE"*"LAST RUN"*RULE ]]
	[[ "${lines[1]}" == "tick "*test-instant*contoso*yes*"$id $(run_field "$id" state)"*"every 1s" ]]
	[[ "${lines[2]}" == "nightly "*fabrikam*yes*"T02:0"*" - "*"cron 0 2 * * * jitter 5m (UTC)" ]]
	[[ "${lines[3]}" == "off "*" no "*" - "*"every 6h" ]]
}

@test "SIGHUP picks up a changed schedule" {
	use_plugins instant
	sched_config tick test-instant 'every = 1d'
	start_serve
	wait_log "schedule tick (every 1d): next slot" 50
	sched_config tick test-instant 'every = 1s'
	kill -HUP "$SERVE_PID"
	wait_log "schedule tick (every 1s): next slot" 50
	wait_fires 1 50
	stop_serve
	# The changed rule starts over: no catch-up for the old one.
	! grep -q "slots missed" "$SERVE_LOG"
	id=$(log_fires | awk 'NR == 1 { print $2 }')
	[ "$(run_field "$id" initiator)" = alice ]
}

@test "config check names each bad schedule's section, key and fix and writes nothing; serve refuses it, other commands go on" {
	cat >"$CFG" <<-INI
	[store]
	path = store
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	[schedule a]
	type = test-instant
	tenant = contoso
	initiator = alice
	cron = 0 25 * * *
	[schedule b]
	type = test-instant
	tenant = nowhere
	initiator = alice
	every = 0s
	payload = {"count": }
	[schedule c]
	type = test-instant
	tenant = contoso
	every = 1h
	cron = 0 * * * *
	colour = blue
	[schedule d]
	type = test-instant
	tenant = contoso
	initiator = alice
	INI
	run --separate-stderr oprun config check
	printf '%s\n' "$output" "$stderr"
	[ "$status" -eq 2 ]
	[[ "$output" != *"configuration OK"* ]]
	[ "${#lines[@]}" -eq 0 ]
	mapfile -t errs <<<"$stderr"
	[ "${#errs[@]}" -eq 8 ]
	[[ "${errs[0]}" == "$CFG:10: [schedule a] cron = 0 25 * * *: hour field '25': 25 is out of range 0-23; the fields are minute hour day-of-month month day-of-week, e.g. cron = 0 2 * * *" ]]
	[[ "${errs[1]}" == "$CFG:13: [schedule b] tenant = nowhere: there is no [tenant nowhere] section; add one or name an existing tenant" ]]
	[[ "${errs[2]}" == "$CFG:16: [schedule b] payload: not valid JSON"* ]]
	[[ "${errs[3]}" == "$CFG:15: [schedule b] every = 0s: must be at least 1s" ]]
	[[ "${errs[4]}" == "$CFG:22: [schedule c] unknown key colour; the known keys are type, tenant, payload, initiator, target, every, cron, jitter and enabled" ]]
	[[ "${errs[5]}" == "$CFG:17: [schedule c] has no initiator; add initiator = USER"* ]]
	[[ "${errs[6]}" == "$CFG:21: [schedule c] has both every (line 20) and cron (line 21); keep one" ]]
	[[ "${errs[7]}" == "$CFG:23: [schedule d] has neither every nor cron; add every = 6h"* ]]
	# Nothing was written, and serve refuses the configuration, before
	# it submits anything.
	[ ! -e "$TEST_DIR/store" ]
	run oprun serve
	[ "$status" -eq 2 ]
	[[ "$output" == *"[schedule a] cron = 0 25 * * *"* ]]
	[[ "$output" == *"refusing to start"* ]]
	[ "$(runs_count)" -eq 0 ]
	# The other commands still work; schedules says what it leaves out.
	run --separate-stderr oprun schedules
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == NAME* ]]
	[[ "$stderr" == *"oprun: warning: $CFG:10: [schedule a] cron = 0 25"* ]]
}

@test "config check refuses a schedule of a type no plugin provides" {
	write_config '[schedule typo]' 'type = test-instnat' 'tenant = contoso' \
	    'initiator = alice' 'every = 1h'
	run oprun config check
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "$CFG:9: [schedule typo] type = test-instnat: no loaded plugin provides this operation; install its plugin or fix the type (\`oprun plugins list\` shows them)" ]
	[ ! -e "$TEST_DIR/store" ]
	write_config '[schedule ok]' 'type = test-instant' 'tenant = contoso' \
	    'initiator = alice' 'every = 1h'
	run oprun config check
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
}
