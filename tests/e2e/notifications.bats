#!/usr/bin/env bats
# Notifications reach the initiator only and can be marked read; the run
# list filters and pages newest first; prune removes old terminal runs.

bats_require_minimum_version 1.5.0
load helpers

# notes USER [ARGS...]: `oprun notifications --user USER --json ARGS`.
notes() {
	local user=$1
	shift
	oprun notifications --user "$user" --json "$@" 2>/dev/null
}

@test "notifications reach the initiator only" {
	a=$(submit_id test-items contoso alice '{"count":3,"fail":[2]}')
	b=$(submit_id test-instant fabrikam bob '{}')
	oprun worker --once 2>/dev/null
	# alice: queued + finished for her run only.
	[ "$(notes alice | json_get notifications.length)" -eq 2 ]
	[ "$(notes alice | json_eval 'sorted(set(n["run_id"] for n in d["notifications"]))')" = "[$a]" ]
	# bob: his own two, none of alice's.
	[ "$(notes bob | json_get notifications.length)" -eq 2 ]
	[ "$(notes bob | json_eval 'sorted(set(n["run_id"] for n in d["notifications"]))')" = "[$b]" ]
	# A name that is a prefix of another user's sees nothing of theirs.
	[ "$(notes ali | json_get notifications.length)" -eq 0 ]
	[ "$(notes ali | json_get unread)" -eq 0 ]
	[ "$(notes carol | json_get notifications.length)" -eq 0 ]
}

@test "a run's queued and terminal notifications state the outcome and the counts" {
	id=$(submit_id test-items contoso alice '{"count":5,"fail":[2,4]}')
	run --separate-stderr oprun notifications --user alice --json
	[ "$(printf '%s' "$output" | json_get notifications.length)" -eq 1 ]
	[ "$(printf '%s' "$output" | json_get notifications.0.kind)" = queued ]
	[ "$(printf '%s' "$output" | json_get notifications.0.text)" = "run $id (test-items on contoso) queued" ]
	oprun worker --once 2>/dev/null
	run --separate-stderr oprun notifications --user alice --json
	[ "$(printf '%s' "$output" | json_get notifications.length)" -eq 2 ]
	# Newest first: the terminal one.
	[ "$(printf '%s' "$output" | json_get notifications.0.kind)" = finished ]
	[ "$(printf '%s' "$output" | json_get notifications.0.state)" = partial ]
	[ "$(printf '%s' "$output" | json_get notifications.0.run_id)" -eq "$id" ]
	text=$(printf '%s' "$output" | json_get notifications.0.text)
	[[ "$text" == *partial* ]]
	[[ "$text" == *"2 failed"* ]]
	[[ "$text" == *"3 succeeded"* ]]
	[[ "$text" == *"run $id"* ]]
	[ "$(printf '%s' "$output" | json_get notifications.1.kind)" = queued ]
	# The text listing shows the same, with the unread count last.
	run --separate-stderr oprun notifications --user alice
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == "*"*"finished partial: 5 of 5 processed, 3 succeeded, 2 failed"* ]]
	[ "${lines[2]}" = "2 unread" ]
}

@test "a failed run's notification carries the reason" {
	submit_id test-items contoso alice '{"count":2,"fail":[1,2]}' >/dev/null
	oprun worker --once 2>/dev/null
	text=$(notes alice | json_get notifications.0.text)
	[[ "$text" == *"finished failed"*"all 2 items failed"* ]]
}

@test "--unread lists unread notifications only and --mark-read ID marks one" {
	submit_id test-instant contoso alice '{"n":1}' >/dev/null
	submit_id test-instant contoso alice '{"n":2}' >/dev/null
	submit_id test-instant contoso alice '{"n":3}' >/dev/null
	[ "$(notes alice | json_get unread)" -eq 3 ]
	first=$(notes alice | json_get notifications.2.id)
	run oprun notifications --user alice --mark-read "$first"
	[ "$status" -eq 0 ]
	[ "$output" = "1 marked read" ]
	[ "$(notes alice | json_get unread)" -eq 2 ]
	[ "$(notes alice | json_get notifications.length)" -eq 3 ]
	[ "$(notes alice --unread | json_get notifications.length)" -eq 2 ]
	[ "$(notes alice --unread | json_get unread)" -eq 2 ]
	[ "$(notes alice --unread | json_eval 'all(not n["read"] for n in d["notifications"])')" = true ]
	[ "$(notes alice --unread | json_eval "$first in [n['id'] for n in d['notifications']]")" = false ]
	# Marking it again changes nothing.
	run oprun notifications --user alice --mark-read "$first"
	[ "$status" -eq 0 ]
	[ "$output" = "0 marked read" ]
}

@test "unread notifications are listed first, newest first within each group" {
	submit_id test-instant contoso alice '{"n":1}' >/dev/null
	submit_id test-instant contoso alice '{"n":2}' >/dev/null
	submit_id test-instant contoso alice '{"n":3}' >/dev/null
	ids=$(notes alice | json_eval '[n["id"] for n in d["notifications"]]')
	newest=$(printf '%s' "$ids" | json_get 0)
	middle=$(printf '%s' "$ids" | json_get 1)
	oldest=$(printf '%s' "$ids" | json_get 2)
	[ "$newest" -gt "$middle" ]
	[ "$middle" -gt "$oldest" ]
	oprun notifications --user alice --mark-read "$newest" >/dev/null
	[ "$(notes alice | json_eval '[n["id"] for n in d["notifications"]]')" = "[$middle,$oldest,$newest]" ]
	[ "$(notes alice | json_eval '[n["read"] for n in d["notifications"]]')" = "[false,false,true]" ]
}

@test "--all marks every notification of the user read and no one else's" {
	submit_id test-instant contoso alice '{"n":1}' >/dev/null
	submit_id test-instant contoso alice '{"n":2}' >/dev/null
	submit_id test-instant contoso bob '{"n":3}' >/dev/null
	oprun worker --once 2>/dev/null
	[ "$(notes alice | json_get unread)" -eq 4 ]
	run oprun notifications --user alice --all
	[ "$status" -eq 0 ]
	[ "$output" = "4 marked read" ]
	[ "$(notes alice | json_get unread)" -eq 0 ]
	[ "$(notes alice | json_get notifications.length)" -eq 4 ]
	[ "$(notes alice --unread | json_get notifications.length)" -eq 0 ]
	run oprun notifications --user alice
	[ "${lines[-1]}" = "0 unread" ]
	# bob's are untouched.
	[ "$(notes bob | json_get unread)" -eq 2 ]
}

@test "marking another user's notification read is refused with exit 2" {
	submit_id test-instant contoso alice '{"n":1}' >/dev/null
	nid=$(notes alice | json_get notifications.0.id)
	run --separate-stderr oprun notifications --user bob --mark-read "$nid"
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"notification $nid is not one of bob's"* ]]
	# Still unread for alice.
	[ "$(notes alice | json_get unread)" -eq 1 ]
	run --separate-stderr oprun notifications --user alice --mark-read 999
	[ "$status" -eq 2 ]
}

@test "notifications needs --user and refuses --mark-read with --all" {
	run --separate-stderr oprun notifications
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--user is required"* ]]
	run --separate-stderr oprun notifications --user alice --mark-read 1 --all
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"not both"* ]]
}

# ---- runs: filters and paging ---------------------------------------

# make_runs: six runs across tenants, types, initiators and states:
#   1 contoso  test-items   alice  partial
#   2 fabrikam test-instant bob    succeeded
#   3 contoso  test-instant bob    succeeded
#   4 fabrikam test-items   alice  queued
#   5 contoso  test-items   carol  canceled
#   6 contoso  test-instant alice  queued
make_runs() {
	submit_id test-items contoso alice '{"count":2,"fail":[1]}' >/dev/null
	submit_id test-instant fabrikam bob '{}' >/dev/null
	submit_id test-instant contoso bob '{}' >/dev/null
	oprun worker --once 2>/dev/null
	submit_id test-items fabrikam alice '{"count":1}' >/dev/null
	submit_id test-items contoso carol '{"count":2}' >/dev/null
	submit_id test-instant contoso alice '{"x":1}' >/dev/null
	oprun cancel 5 >/dev/null
}

# ids [FILTERS...]: the ids `oprun runs --json FILTERS` lists, as JSON.
ids() {
	oprun runs --json "$@" 2>/dev/null | json_eval '[r["id"] for r in d]'
}

@test "runs lists every run newest first" {
	make_runs
	[ "$(ids)" = "[6,5,4,3,2,1]" ]
	run --separate-stderr oprun runs
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 7 ]
	[[ "${lines[0]}" == ID*STATE*TYPE*TENANT*INITIATOR* ]]
	[[ "${lines[1]}" == "6 "*queued*test-instant*contoso*alice* ]]
	[[ "${lines[6]}" == "1 "*partial*test-items*contoso*alice* ]]
}

@test "runs --tenant lists only that tenant's runs" {
	make_runs
	[ "$(ids --tenant contoso)" = "[6,5,3,1]" ]
	[ "$(ids --tenant fabrikam)" = "[4,2]" ]
	[ "$(ids --tenant northwind)" = "[]" ]
}

@test "runs --type lists only that operation type" {
	make_runs
	[ "$(ids --type test-items)" = "[5,4,1]" ]
	[ "$(ids --type test-instant)" = "[6,3,2]" ]
}

@test "runs --state lists only runs in that state" {
	make_runs
	[ "$(ids --state queued)" = "[6,4]" ]
	[ "$(ids --state succeeded)" = "[3,2]" ]
	[ "$(ids --state partial)" = "[1]" ]
	[ "$(ids --state canceled)" = "[5]" ]
	[ "$(ids --state running)" = "[]" ]
	[ "$(ids --state failed)" = "[]" ]
}

@test "runs --initiator lists only that user's runs" {
	make_runs
	[ "$(ids --initiator alice)" = "[6,4,1]" ]
	[ "$(ids --initiator bob)" = "[3,2]" ]
	[ "$(ids --initiator carol)" = "[5]" ]
	[ "$(ids --initiator ali)" = "[]" ]
}

@test "runs filters combine" {
	make_runs
	[ "$(ids --tenant contoso --initiator alice)" = "[6,1]" ]
	[ "$(ids --tenant contoso --type test-instant --state succeeded)" = "[3]" ]
	[ "$(ids --initiator alice --state queued)" = "[6,4]" ]
	[ "$(ids --type test-items --tenant fabrikam)" = "[4]" ]
	[ "$(ids --state queued --tenant contoso)" = "[6]" ]
}

@test "runs --limit and --before page through the list newest first" {
	for i in $(seq 7); do
		submit_id test-instant contoso alice "{\"n\":$i}" >/dev/null
	done
	[ "$(ids --limit 3)" = "[7,6,5]" ]
	run --separate-stderr oprun runs --limit 3
	[ "${lines[-1]}" = "more: oprun runs --before 5" ]
	[ "$(ids --limit 3 --before 5)" = "[4,3,2]" ]
	[ "$(ids --limit 3 --before 2)" = "[1]" ]
	[ "$(ids --before 1)" = "[]" ]
	# --before an id larger than any: from the newest.
	[ "$(ids --before 100 --limit 2)" = "[7,6]" ]
	# Paging the last page prints no "more" hint.
	run --separate-stderr oprun runs --limit 3 --before 2
	[[ "$output" != *"more:"* ]]
}

@test "runs --before pages within a filter" {
	make_runs
	[ "$(ids --tenant contoso --limit 2)" = "[6,5]" ]
	[ "$(ids --tenant contoso --limit 2 --before 5)" = "[3,1]" ]
	[ "$(ids --initiator alice --before 6)" = "[4,1]" ]
	[ "$(ids --state queued --before 6)" = "[4]" ]
	[ "$(ids --type test-instant --before 3 --limit 1)" = "[2]" ]
}

# ---- prune ----------------------------------------------------------

@test "prune --older-than 0 removes terminal runs but not queued ones" {
	make_runs
	sleep 0.05
	run oprun prune --older-than 0
	[ "$status" -eq 0 ]
	[[ "$output" == "pruned 4 terminal runs and "*" notifications older than 0 days" ]]
	[ "$(ids)" = "[6,4]" ]
	[ "$(ids --state queued)" = "[6,4]" ]
	# The index rows of pruned runs are gone too.
	[ "$(ids --tenant contoso)" = "[6]" ]
	[ "$(ids --initiator bob)" = "[]" ]
	[ "$(ids --state succeeded)" = "[]" ]
	run --separate-stderr oprun show 1
	[ "$status" -eq 2 ]
	assert_store_ok
	# The queued runs still run, and ids are never reused.
	oprun worker --once 2>/dev/null
	[ "$(ids --state succeeded)" = "[6,4]" ]
	[ "$(submit_id test-instant fabrikam bob '{}')" -eq 7 ]
	assert_store_ok
}

@test "prune --older-than 1 keeps runs and notifications from today" {
	make_runs
	run oprun prune --older-than 1
	[ "$status" -eq 0 ]
	[ "$output" = "pruned 0 terminal runs and 0 notifications older than 1 days" ]
	[ "$(ids)" = "[6,5,4,3,2,1]" ]
	[ "$(notes alice | json_get notifications.length)" -eq 4 ]
	assert_store_ok
}

@test "prune needs --older-than DAYS" {
	run --separate-stderr oprun prune
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--older-than DAYS is required"* ]]
	run --separate-stderr oprun prune --older-than soon
	[ "$status" -eq 2 ]
}
