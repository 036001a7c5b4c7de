#!/usr/bin/env bats
# The Intune plugins directory-sync and backup-capture end to end: the
# real `oprun serve`, the plugins as built into $OPRUN_BUILD/plugins and
# the fake Graph server.  Documents and the directory cache are read back
# with `oprun docs` and `oprun directory`; the documents are compared
# with the fixture by capture_check.py.

bats_require_minimum_version 1.5.0
load helpers
load serve_helpers
load fakegraph_helpers

TENANT_ID=11111111-1111-1111-1111-111111111111
CHECK="$BATS_TEST_DIRNAME/capture_check.py"
PLAIN=contoso-oma-wifi-key
# "Win - General restrictions", the second device configuration.
GENERAL=6a0441af-0b6d-5805-aa14-c970bcef478a

setup() {
	serve_setup
	FG_DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/fakegraph.XXXXXX")
	FG_PID=
	rm -f "$PLUGIN_DIR"/*.so
	install -m 644 "$OPRUN_BUILD/plugins/directory-sync.so" \
	    "$OPRUN_BUILD/plugins/backup-capture.so" "$PLUGIN_DIR/"
	printf '%s\n' "$(fx tenants.0.apps.0.client_secret)" >"$TEST_DIR/secret"
	chmod 600 "$TEST_DIR/secret"
	make_key "$TEST_DIR/key"
}

teardown() {
	local rc=0
	serve_teardown_keep || rc=1
	fg_stop || rc=1
	if grep -q -s Sanitizer "$TEST_DIR/serve.log"; then
		grep -h -A12 Sanitizer "$TEST_DIR/serve.log" | head -n 60 >&2
		rc=1
	fi
	oprun_teardown
	rm -rf "$FG_DIR"
	return "$rc"
}

# serve_teardown without removing the test directory (teardown reads
# the serve log first).
serve_teardown_keep() {
	local pid i
	while read -r pid; do
		[ -n "$pid" ] || continue
		if ours "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 30); do
				ours "$pid" || break
				sleep 0.1
			done
		fi
		kill_group "$pid"
	done <"$SERVE_PIDS"
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -s "$SERVE_LOG" ]; then
		echo "--- last lines of $SERVE_LOG" >&2
		tail -n 40 "$SERVE_LOG" | cut -c1-400 >&2
	fi
}

# make_key FILE: a sealing key (mode 0600).
make_key() {
	"$OPRUN_BUILD/oprun" keygen "$1" >/dev/null
}

# capture_config [LINE...]: the config for the fake server at $FG, with
# the sealing key unless a LINE is "nokey"; other LINEs go to [runner].
capture_config() {
	local line key="secrets_key_file = key"
	for line in "$@"; do
		[ "$line" = nokey ] && key=
	done
	SERVE_EXECUTORS=2
	{
		printf '[store]\npath = store\ndurability = relaxed\n'
		printf 'map_size_mb = 64\n%s\n' "$key"
		printf '[runner]\nplugin_dir = plugins\nexecutors = 2\n'
		printf 'shutdown_grace_s = 1\n'
		for line in "$@"; do
			[ "$line" = nokey ] || printf '%s\n' "$line"
		done
		printf '[graph]\nbase_url = %s\nlogin_url = %s\n' "$FG" "$FG"
		printf 'max_wait_s = 60\n'
		printf '[tenant contoso]\ntenant_id = %s\n' "$TENANT_ID"
		printf 'client_id = %s\n' "$(fx tenants.0.apps.0.client_id)"
		printf 'client_secret_file = secret\n'
	} >"$CFG"
}

# start_all [FIXTURE]: the fake server, the config and serve.
start_all() {
	fg_start "${1:-$FIXTURE}"
	capture_config
	start_serve
}

# submit_wait TYPE PAYLOAD [TENTHS]: submits as alice, waits for the end
# and prints the run's id.
submit_wait() {
	local id
	id=$(submit_cli "$1" contoso "$2") || return 1
	wait_terminal "$id" "${3:-600}" || return 1
	echo "$id"
}

# dump_docs RUN FILE: the documents of RUN (oprun docs), one JSON line
# {"name": ..., "doc": ...} each, in name order, in FILE.
dump_docs() {
	local n
	oprun docs "$1" --json |
	    json_eval '"\n".join(x["name"] for x in d["documents"])' \
	    >"$2.names" || return 1
	: >"$2"
	while read -r n; do
		[ -n "$n" ] || continue
		printf '{"name":"%s","doc":%s}\n' "$n" "$(oprun docs "$1" "$n")" \
		    >>"$2"
	done <"$2.names"
	rm -f "$2.names"
}

# synced KIND: when contoso's KIND was last synced (oprun directory).
synced() {
	oprun directory contoso --json |
	    json_eval "[k['synced_at'] for k in d['kinds'] if k['kind'] == '$1'][0]"
}

# wait_processed ID N: waits (at most 10 s) until run ID processed N items.
wait_processed() {
	local i end=$(($(now_ms) + 10000))
	while [ "$(now_ms)" -lt "$end" ]; do
		[ "$(run_field "$1" summary.processed)" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "run $1 processed $(run_field "$1" summary.processed), not $2" >&2
	return 1
}

# fault RULES-JSON: queues fault rules on the fake server.
fault() {
	curl -sf -X POST "$FG/_fake/faults" -d "$1" >/dev/null
}

# A settings catalog policy with 30 settings and a device configuration
# with 30 group assignments (the real page size of both is 25), and
# several pages per family.
BIG='
t = f["tenants"][0]
f["page_sizes"].update({"settings": 25, "assignments": 25,
    "deviceConfigurations": 2, "deviceCompliancePolicies": 2,
    "configurationPolicies": 2, "groupPolicyConfigurations": 1,
    "deviceManagementScripts": 1, "assignmentFilters": 1,
    "roleScopeTags": 2, "definitionValues": 2, "presentationValues": 2})
p = t["configurationPolicies"][1]
s0 = p["settings"][0]
p["settings"] = []
for i in range(30):
    s = json.loads(json.dumps(s0))
    d = "device_vendor_msft_policy_config_big_setting%d" % i
    s["settingInstance"]["settingDefinitionId"] = d
    s["settingInstance"]["choiceSettingValue"]["value"] = d + "_1"
    p["settings"].append(s)
t["deviceConfigurations"][1]["assignments"] = [{"target": {
    "@odata.type": "#microsoft.graph.groupAssignmentTarget",
    "groupId": g["id"],
    "deviceAndAppManagementAssignmentFilterId":
        "00000000-0000-0000-0000-000000000000",
    "deviceAndAppManagementAssignmentFilterType": "none"}}
    for g in t["groups"][10:40]]
'

@test "bad backup-capture and directory-sync payloads are refused naming the field, and nothing is created" {
	FG=http://127.0.0.1:9 capture_config
	run oprun submit backup-capture --tenant contoso --initiator alice \
	    --payload '{"families":["deviceConfigurations","policies"]}'
	[ "$status" -eq 2 ]
	[[ "$output" == *"payload.families[1]: unknown family 'policies'; known: deviceConfigurations, "* ]]
	run oprun submit backup-capture --tenant contoso --initiator alice \
	    --payload '{"families":"deviceConfigurations"}'
	[ "$status" -eq 2 ]
	[[ "$output" == *"payload.families: must be a non-empty array"* ]]
	run oprun submit backup-capture --tenant contoso --initiator alice \
	    --payload '{"ids":["ok","a/b"]}'
	[ "$status" -eq 2 ]
	[[ "$output" == *"payload.ids[1]: must be an object id"* ]]
	run oprun submit backup-capture --tenant contoso --initiator alice \
	    --payload '{"family":[]}'
	[ "$status" -eq 2 ]
	[[ "$output" == *'payload.family: unknown field'* ]]
	run oprun submit directory-sync --tenant contoso --initiator alice \
	    --payload '{"kinds":["groups"]}'
	[ "$status" -eq 2 ]
	[[ "$output" == *'payload.kinds: unknown field'* ]]
	assert_nothing_written alice
}

@test "a capture past the 25-per-page limits gets every object, setting and assignment, equal to the fixture" {
	fixture=$(fixture_with "$BIG")
	install -m 644 "$OPRUN_BUILD/test-plugins/graphtest.so" "$PLUGIN_DIR/"
	start_all "$fixture"

	sync=$(submit_wait directory-sync '{}')
	[ "$(run_field "$sync" state)" = succeeded ]
	[ "$(run_field "$sync" result.groups.count)" = 245 ]
	curl -sf -X POST "$FG/_fake/reset"
	id=$(submit_wait backup-capture '{}')
	oprun show "$id"
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" summary.total)" = 20 ]
	[ "$(run_field "$id" summary.succeeded)" = 20 ]
	[ "$(run_field "$id" result.documents)" = 20 ]
	[ "$(run_field "$id" result.families.deviceConfigurations.captured)" = 5 ]
	[ "$(run_field "$id" result.families.roleScopeTags.captured)" = 3 ]
	[ "$(run_field "$id" result.families.configurationPolicies.complete)" = true ]
	[ "$(run_field "$id" result.directory_synced_at.groups)" != null ]

	dump_docs "$id" "$TEST_DIR/docs.jsonl"
	run python3 "$CHECK" fixture "$fixture" contoso "$TEST_DIR/docs.jsonl"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"configurationPolicies: 3 documents, 33 settings"* ]]
	[[ "$output" == *"deviceConfigurations: 5 documents, 0 settings, 33 assignments"* ]]
	# The backup reads back through the CLI.
	[ "$(oprun backups --json | json_eval '[(b["objects"], b["failed"], b["documents"]) for b in d["backups"]]')" = '[[20,0,20]]' ]
	run oprun export "$id" "$TEST_DIR/export"
	[ "$status" -eq 0 ]
	[ "$output" = "exported 20 documents of run $id to $TEST_DIR/export" ]
	[ -f "$TEST_DIR/export/configurationPolicies/Win - Many settings__$(json_get tenants.0.configurationPolicies.1.id <"$fixture").json" ]
	# A second export of the same backup is byte for byte the same.
	oprun export "$id" "$TEST_DIR/export2" >/dev/null
	diff -r "$TEST_DIR/export" "$TEST_DIR/export2"

	# Every sub-request went in a $batch item, the later pages of
	# sub-collections too: outside them only the family lists' pages and
	# the one decrypt call.  The run's objects share the batches, so all
	# but the last rounds go out full.
	curl -sf "$FG/_fake/requests" >"$TEST_DIR/log.json"
	run python3 - "$TEST_DIR/log.json" <<-'PY'
	import json, math, re, sys
	log = json.load(open(sys.argv[1]))["value"]
	direct = [q for q in log if "batch_id" not in q and q["method"] == "GET"]
	batches = [q for q in log if q["path"].endswith("/$batch")]
	items = sum(1 for q in log if "batch_id" in q)
	odd = [q["path"] + "?" + q["query"] for q in direct
	       if not (re.fullmatch(r"/beta/deviceManagement/\w+", q["path"])
	               or "getOmaSettingPlainTextValue" in q["path"])]
	print("direct GETs %d, $batch requests %d, batch items %d" % (
	    len(direct), len(batches), items))
	print("odd: %s" % odd)
	sys.exit(1 if odd or len(batches) > math.ceil(items / 20) + 2 else 0)
	PY
	echo "$output"
	[ "$status" -eq 0 ]

	# A plugin of the older ABI runs beside them.
	g=$(submit_wait test-graph-list '{"path":"/v1.0/groups"}')
	[ "$(run_field "$g" state)" = succeeded ]
	[ "$(run_field "$g" result.items)" = 245 ]
}

@test "429 with and without Retry-After and 503 during a capture slow it and lose nothing" {
	fixture=$(fixture_with "$BIG")
	start_all "$fixture"
	submit_wait directory-sync '{}' >/dev/null
	clean=$(submit_wait backup-capture '{}')
	[ "$(run_field "$clean" state)" = succeeded ]

	fault '{"rules":[
	  {"path":"/beta/deviceManagement/deviceConfigurations$","query":"skiptoken","status":429,"retry_after":1},
	  {"path":"/assignments$","status":429,"times":2},
	  {"path":"/settings$","query":"skiptoken","status":503,"retry_after":1},
	  {"path":"/definitionValues$","status":503},
	  {"path":"/presentationValues$","status":429,"retry_after":1},
	  {"path":"/deviceManagementScripts/[^/]+$","status":429},
	  {"path":"/beta/deviceManagement/roleScopeTags$","status":503,"retry_after":1}]}'
	start=$(now_ms)
	id=$(submit_wait backup-capture '{}')
	took=$(($(now_ms) - start))
	oprun show "$id"
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" summary.failed)" = 0 ]
	# Every rule was used up, and the waits were waited.
	[ "$(curl -sf "$FG/_fake/faults" | json_get value.length)" = 0 ]
	[ "$took" -ge 3000 ]
	[ "$(curl -sf "$FG/_fake/requests" | json_eval 'sum(1 for q in d["value"] if q.get("fault"))')" = 8 ]

	dump_docs "$clean" "$TEST_DIR/clean.jsonl"
	dump_docs "$id" "$TEST_DIR/throttled.jsonl"
	python3 "$CHECK" normalise "$TEST_DIR/clean.jsonl" >"$TEST_DIR/clean.txt"
	python3 "$CHECK" normalise "$TEST_DIR/throttled.jsonl" >"$TEST_DIR/throttled.txt"
	[ "$(wc -l <"$TEST_DIR/clean.txt")" -eq 20 ]
	cmp "$TEST_DIR/clean.txt" "$TEST_DIR/throttled.txt"
	python3 "$CHECK" fixture "$fixture" contoso "$TEST_DIR/throttled.jsonl"
}

@test "an executor SIGKILLed mid-capture: attempt 2 ends with exactly one complete set of documents" {
	start_all
	submit_wait directory-sync '{}' >/dev/null
	# The scripts list waits 8 s (the kill ends it): the objects of the
	# first $batch (the device configurations first) are captured and
	# saved by then.
	fault '{"rules":[{"method":"GET","path":"/beta/deviceManagement/deviceManagementScripts$","status":503,"retry_after":8}]}'
	id=$(submit_cli backup-capture contoso '{}')
	wait_processed "$id" 5
	[ "$(run_field "$id" state)" = running ]
	# Attempt 1 has a document of GENERAL (read while it waits); the
	# object goes away before attempt 2, so only a leftover of attempt 1
	# could show it afterwards.
	dump_docs "$id" "$TEST_DIR/attempt1.jsonl"
	[ "$(wc -l <"$TEST_DIR/attempt1.jsonl")" -ge 5 ]
	grep -q "\"deviceConfigurations/$GENERAL.json\"" "$TEST_DIR/attempt1.jsonl"
	[ "$(run_field "$id" attempt)" = 1 ]
	TOKEN=$(app_token)
	graph DELETE "/beta/deviceManagement/deviceConfigurations/$GENERAL"
	[ "$STATUS" = 204 ]
	pid=$(running_actor_pid "$id")
	kill -KILL "$pid"

	wait_terminal "$id" 600
	oprun show "$id"
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" attempt)" = 2 ]
	[ "$(run_field "$id" result.documents)" = 19 ]
	clean=$(submit_wait backup-capture '{}')
	[ "$(run_field "$clean" state)" = succeeded ]

	dump_docs "$id" "$TEST_DIR/retried.jsonl"
	dump_docs "$clean" "$TEST_DIR/clean.jsonl"
	python3 "$CHECK" normalise "$TEST_DIR/retried.jsonl" >"$TEST_DIR/retried.txt"
	python3 "$CHECK" normalise "$TEST_DIR/clean.jsonl" >"$TEST_DIR/clean.txt"
	[ "$(wc -l <"$TEST_DIR/retried.txt")" -eq 19 ]
	run ! grep -q "$GENERAL" "$TEST_DIR/retried.txt"
	cmp "$TEST_DIR/retried.txt" "$TEST_DIR/clean.txt"
}

@test "a capture canceled while it waits on Graph ends canceled, keeping what it captured, and says so" {
	start_all
	fault '{"rules":[{"method":"GET","path":"/beta/deviceManagement/deviceManagementScripts$","status":503,"retry_after":30}]}'
	id=$(submit_cli backup-capture contoso '{}')
	wait_processed "$id" 5
	oprun cancel "$id" --as alice
	wait_terminal "$id" 100
	oprun show "$id"
	[ "$(run_field "$id" state)" = canceled ]
	n=$(oprun docs "$id" --json | json_get count)
	[ "$n" -ge 5 ] && [ "$n" -lt 20 ]
	[ "$(run_field "$id" reason)" = "canceled after $n documents; the backup is incomplete" ]
	[ "$(run_field "$id" summary.failed)" = 0 ]
	[ "$(run_field "$id" summary.succeeded)" = "$n" ]
	[ "$(run_field "$id" result.documents)" = "$n" ]
	[ "$(run_field "$id" result.families.deviceManagementScripts.complete)" = false ]
}

@test "assignments name cached groups and filters; ones missing from the cache keep their id with inCache false" {
	fixture=$(fixture_with '
t = f["tenants"][0]
t["deviceConfigurations"][2]["assignments"] = [
  {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
    "groupId": "99999999-9999-4999-8999-999999999999",
    "deviceAndAppManagementAssignmentFilterId": "88888888-8888-4888-8888-888888888888",
    "deviceAndAppManagementAssignmentFilterType": "exclude"}},
  {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
    "groupId": t["groups"][3]["id"]}}]')
	start_all "$fixture"
	ios=$(json_get tenants.0.deviceConfigurations.2.id <"$fixture")

	# Never synced: ids only, and the result says why.
	early=$(submit_wait backup-capture '{"families":["deviceConfigurations","assignmentFilters"]}')
	oprun show "$early"
	[ "$(run_field "$early" state)" = succeeded ]
	[ "$(run_field "$early" result.directory_synced_at.groups)" = null ]
	[[ "$(run_field "$early" result.warnings.0)" == "the directory cache of groups was never synced"* ]]
	grep -q 'the directory cache of groups was never synced' "$SERVE_LOG"
	[ "$(run_field "$early" result.families | json_get length)" = 2 ]

	submit_wait directory-sync '{}' >/dev/null
	id=$(submit_wait backup-capture '{}')
	[ "$(run_field "$id" state)" = succeeded ]
	[ "$(run_field "$id" result | json_eval '"warnings" in d')" = false ]

	dump_docs "$early" "$TEST_DIR/early.jsonl"
	dump_docs "$id" "$TEST_DIR/docs.jsonl"
	# capture_check expects the fixture's names when the cache has them.
	python3 "$CHECK" fixture "$fixture" contoso "$TEST_DIR/docs.jsonl"
	doc=$(grep "\"deviceConfigurations/$ios.json\"" "$TEST_DIR/docs.jsonl")
	a=$(printf '%s' "$doc" | json_get doc.assignments)
	[ "$(printf '%s' "$a" | json_get 0.group)" = '{"displayName":null,"id":"99999999-9999-4999-8999-999999999999","inCache":false}' ]
	[ "$(printf '%s' "$a" | json_get 0.filter)" = '{"displayName":null,"id":"88888888-8888-4888-8888-888888888888","inCache":false,"type":"exclude"}' ]
	[ "$(printf '%s' "$a" | json_get 1.group.displayName)" = "All Staff" ]
	[ "$(printf '%s' "$a" | json_get 1.group.inCache)" = true ]
	# Before the sync every group and filter was an id only.
	[ "$(json_eval '[a.get("group", {}).get("inCache") for a in d["doc"]["assignments"]]' <<<"$(grep "\"deviceConfigurations/$ios.json\"" "$TEST_DIR/early.jsonl")")" = '[false,false]' ]
	run ! grep -q '"inCache":true' "$TEST_DIR/early.jsonl"
}

@test "the encrypted OMA value is stored sealed only: not in the store, the logs or the output; without a key the object fails" {
	start_all
	submit_wait directory-sync '{}' >/dev/null
	id=$(submit_wait backup-capture '{"families":["deviceConfigurations"]}')
	oprun show "$id"
	[ "$(run_field "$id" state)" = succeeded ]
	dump_docs "$id" "$TEST_DIR/docs.jsonl"
	first=$(json_get tenants.0.deviceConfigurations.0.id <"$FIXTURE")
	doc=$(grep "\"deviceConfigurations/$first.json\"" "$TEST_DIR/docs.jsonl")
	value=$(printf '%s' "$doc" | json_get doc.object.omaSettings.1.value)
	[[ "$value" == oprun-sealed:v1:* ]]
	[ "$(printf '%s' "$doc" | json_get doc.object.omaSettings.1.isEncrypted)" = true ]
	# The decrypt call was made, so the plain value crossed the host.
	curl -sf "$FG/_fake/requests" | grep -q getOmaSettingPlainTextValue
	oprun export "$id" "$TEST_DIR/export"
	grep -q -r 'oprun-sealed:v1:' "$TEST_DIR/export/deviceConfigurations"
	# Only --reveal-secrets writes the plain value (files mode 0600).
	run oprun export "$id" "$TEST_DIR/revealed" --reveal-secrets
	[ "$status" -eq 0 ]
	[[ "$output" != *"$PLAIN"* ]]
	revealed=$(grep -r -l -F "$PLAIN" "$TEST_DIR/revealed")
	[ "$(stat -c %a "$revealed")" = 600 ]
	rm -rf "$TEST_DIR/revealed"

	# Without a key the object fails with the reason; the rest is kept.
	stop_serve
	capture_config nokey
	start_serve
	id2=$(submit_wait backup-capture '{"families":["deviceConfigurations"]}')
	run oprun show "$id2" --json
	echo "$output"
	[ "$(run_field "$id2" state)" = partial ]
	[ "$(run_field "$id2" summary.failed)" = 1 ]
	[ "$(run_field "$id2" failures.items.0.item)" = "deviceConfigurations/$first" ]
	[[ "$(run_field "$id2" failures.items.0.message)" == *"sealing setting 'WiFiKey' failed: seal: no key: set [store] secrets_key_file"* ]]
	dump_docs "$id2" "$TEST_DIR/nokey.jsonl"
	[ "$(wc -l <"$TEST_DIR/nokey.jsonl")" -eq 4 ]
	run ! grep -q "$first" "$TEST_DIR/nokey.jsonl"

	stop_serve
	run ! grep -r -a -q -F "$PLAIN" "$TEST_DIR"
	run ! grep -a -q -F "$PLAIN" "$TEST_DIR/store/data.mdb"
	run ! grep -a -q -F "$PLAIN" "$FG_DIR/stdout" "$FG_DIR/stderr"
	[[ "$output$doc" != *"$PLAIN"* ]]
}

@test "directory-sync failing on the second page of groups is partial and leaves the previous snapshot whole" {
	fixture=$(fixture_with 'f["page_max"]["groups"] = 100')
	start_all "$fixture"

	first=$(submit_wait directory-sync '{}')
	[ "$(run_field "$first" state)" = succeeded ]
	[ "$(run_field "$first" result.groups)" = '{"committed":true,"count":245}' ]
	oprun directory contoso --kind groups --json >"$TEST_DIR/before.json"
	[ "$(json_get objects.length <"$TEST_DIR/before.json")" = 245 ]
	[ "$(json_eval 'sorted(o["id"] for o in d["objects"])' <"$TEST_DIR/before.json")" = \
	  "$(json_eval 'sorted(g["id"] for g in d["tenants"][0]["groups"])' <"$fixture")" ]
	when=$(synced groups)

	fault '{"rules":[{"path":"/v1.0/groups$","query":"skiptoken","status":500}]}'
	second=$(submit_wait directory-sync '{}')
	oprun show "$second"
	[ "$(run_field "$second" state)" = partial ]
	[ "$(run_field "$second" summary.total)" = 3 ]
	[ "$(run_field "$second" summary.failed)" = 1 ]
	[ "$(run_field "$second" failures.items.0.item)" = groups ]
	rid=$(curl -sf "$FG/_fake/requests" | json_eval '[q["request_id"] for q in d["value"] if q.get("fault")][0]')
	msg=$(run_field "$second" failures.items.0.message)
	[[ "$msg" == "page 2: "*"HTTP 500 InternalServerError"*"request-id $rid"* ]]
	[ "$(run_field "$second" result.groups.committed)" = false ]
	[ "$(run_field "$second" result.groups.count)" = 100 ]
	[ "$(run_field "$second" result.assignmentFilters.committed)" = true ]
	[ "$(run_field "$second" result.roleScopeTags.committed)" = true ]

	# Every group is still cached, from the first sync; the other kinds
	# were synced again.
	oprun directory contoso --kind groups --json >"$TEST_DIR/after.json"
	cmp "$TEST_DIR/before.json" "$TEST_DIR/after.json"
	[ "$(synced groups)" = "$when" ]
	[ "$(synced roleScopeTags)" != "$when" ]
}
