#!/usr/bin/env bats
# The host's Graph client against the fake Graph server over real HTTP on
# 127.0.0.1: paging, throttling, token errors and renewal, OData errors,
# $batch, and secrets that never persist.  Runs go through the graphtest
# test plugin and `oprun worker --once`.

SECRET=contoso-backup-secret
APP=cc8deddb-5e43-5299-91ab-b0c218b4b0c2
TENANT_ID=11111111-1111-1111-1111-111111111111

setup() {
	OPRUN_BUILD=${OPRUN_BUILD:-$BATS_TEST_DIRNAME/../../build}
	DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/graph.XXXXXX")
	mkdir -m 755 "$DIR/plugins"
	install -m 644 "$OPRUN_BUILD/test-plugins/graphtest.so" "$DIR/plugins/"
	printf '%s\n' "$SECRET" >"$DIR/secret"
	chmod 600 "$DIR/secret"
	FAKE_PID=
}

teardown() {
	local rc=0
	if [ -n "${SERVE_PID:-}" ]; then
		kill -KILL -- -"$SERVE_PID" 2>/dev/null || true
	fi
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	# In the sanitized build, a report from a worker, serve or the fake
	# server (their exit status is not checked) fails the test.
	if grep -q -s Sanitizer "$DIR"/*.log; then
		grep -h -s -A12 Sanitizer "$DIR"/*.log | head -n 60 >&2
		rc=1
	fi
	rm -rf "$DIR"
	return "$rc"
}

# start_fake [PYTHON-EXPR]: starts fakegraph on a fresh port with the
# fixture, edited by the python statement given (f is the fixture dict).
start_fake() {
	python3 - "$BATS_TEST_DIRNAME/../fakegraph/fixture.json" \
	    "$DIR/fixture.json" "${1:-pass}" <<-'PY'
	import json, sys
	f = json.load(open(sys.argv[1]))
	exec(sys.argv[3])
	json.dump(f, open(sys.argv[2], "w"))
	PY
	"$OPRUN_BUILD/fakegraph" --fixture "$DIR/fixture.json" \
	    --port-file "$DIR/port" 2>"$DIR/fake.log" &
	FAKE_PID=$!
	for _ in $(seq 100); do
		[ -s "$DIR/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$DIR/port")
	BASE=http://127.0.0.1:$PORT
	cat >"$DIR/oprun.ini" <<-INI
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[graph]
	base_url = $BASE
	login_url = $BASE
	max_retries = ${MAX_RETRIES:-5}
	max_wait_s = ${MAX_WAIT:-30}
	[tenant contoso]
	tenant_id = $TENANT_ID
	client_id = $APP
	client_secret_file = secret
	INI
}

oprun() {
	"$OPRUN_BUILD/oprun" -c "$DIR/oprun.ini" "$@"
}

# run_graph TYPE PAYLOAD: submits, runs it with a worker, prints the run.
run_graph() {
	local id
	id=$(oprun submit "$1" --tenant contoso --initiator alice \
	    --payload "$2" --json | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["id"])')
	oprun worker --once 2>>"$DIR/worker.log"
	oprun show "$id" --json
}

fault() {
	curl -sf -X POST "$BASE/_fake/faults" -d "$1" >/dev/null
}

requests_json() {
	curl -sf "$BASE/_fake/requests"
}

# py EXPR: evaluates EXPR with r = the run (JSON on stdin) and log = the
# fake server's request log; prints the value.
py() {
	local run_json
	run_json=$(cat)
	python3 - "$run_json" "$(requests_json)" "$1" <<-'PY'
	import json, sys
	r = json.loads(sys.argv[1])
	log = json.loads(sys.argv[2])["value"]
	print(eval(sys.argv[3]))
	PY
}

@test "a plugin lists 230 items at page size 7 and gets them all, with its headers on every page" {
	start_fake 'f["tenants"][0]["groups"] = f["tenants"][0]["groups"][:230]; f["page_sizes"]["groups"] = 7'
	out=$(run_graph test-graph-list \
	    '{"path":"/v1.0/groups?$count=true","consistency":true}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = succeeded ]
	[ "$(py 'r["result"]["items"]' <<<"$out")" = 230 ]
	[ "$(py 'r["result"]["pages"]' <<<"$out")" = 33 ]
	pages=$(py 'sum(1 for q in log if q["path"] == "/v1.0/groups")' <<<"$out")
	[ "$pages" = 33 ]
	# Every page carried the caller's header and a bearer token.
	with=$(py 'sum(1 for q in log if q["path"] == "/v1.0/groups" and q["headers"].get("ConsistencyLevel") == "eventual" and q["headers"].get("Authorization", "").startswith("Bearer"))' <<<"$out")
	[ "$with" = 33 ]
	# One token for the whole walk, one connection reused.
	[ "$(py 'sum(1 for q in log if q["path"].endswith("/token"))' <<<"$out")" = 1 ]
}

@test "a \$search walk fails on any page that lacks ConsistencyLevel, and passes with it" {
	start_fake 'f["page_sizes"]["groups"] = 7'
	out=$(run_graph test-graph-list \
	    '{"path":"/v1.0/groups?$search=\"displayName:intune\""}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	[[ "$(py 'r["reason"]' <<<"$out")" == *"HTTP 400 Request_UnsupportedQuery"*"ConsistencyLevel: eventual"*"request-id"* ]]
	out=$(run_graph test-graph-list \
	    '{"path":"/v1.0/groups?$search=\"displayName:intune\"","consistency":true}')
	[ "$(py 'r["state"]' <<<"$out")" = succeeded ]
	[ "$(py 'r["result"]["pages"] > 1' <<<"$out")" = True ]
}

@test "429 with Retry-After: 2 makes the client wait at least 2 s, then it succeeds" {
	start_fake
	fault '{"rules":[{"method":"GET","path":"^/v1.0/groups/","status":429,"retry_after":2,"times":1}]}'
	out=$(run_graph test-graph-calls \
	    '{"requests":[{"path":"/v1.0/groups/00000000-0000-0000-0000-000000000001"}]}')
	echo "$out"
	gets=$(py '[q for q in log if q["path"].startswith("/v1.0/groups/")]' <<<"$out")
	echo "$gets"
	[ "$(py 'len([q for q in log if q["path"].startswith("/v1.0/groups/")])' <<<"$out")" = 2 ]
	gap=$(py '(lambda g: g[1]["time_ms"] - g[0]["time_ms"])([q for q in log if q["path"].startswith("/v1.0/groups/")])' <<<"$out")
	echo "gap $gap ms"
	python3 -c "import sys; sys.exit(0 if $gap >= 2000 else 1)"
	[ "$(py '[q["status"] for q in log if q["path"].startswith("/v1.0/groups/")]' <<<"$out")" != "[429, 429]" ]
}

@test "429 without Retry-After backs off before retrying" {
	start_fake
	fault '{"rules":[{"method":"GET","path":"^/v1.0/groups$","status":429,"times":2}]}'
	out=$(run_graph test-graph-list '{"path":"/v1.0/groups"}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = succeeded ]
	gaps=$(py '(lambda g: [round(g[i+1]["time_ms"] - g[i]["time_ms"]) for i in range(len(g)-1)])([q for q in log if q["path"] == "/v1.0/groups"])' <<<"$out")
	echo "gaps $gaps"
	# Backoff: at least half of 1 s, then of 2 s.
	python3 -c "g=$gaps; import sys; sys.exit(0 if g[0] >= 500 and g[1] >= 1000 else 1)"
}

@test "a run whose wait budget runs out records a clear per-item failure instead of hanging" {
	MAX_WAIT=3 start_fake
	fault '{"rules":[{"method":"GET","path":"^/v1.0/groups/","status":429,"retry_after":2,"times":100}]}'
	start=$(date +%s)
	out=$(run_graph test-graph-calls \
	    '{"requests":[{"path":"/v1.0/groups/00000000-0000-0000-0000-000000000001"},{"path":"/v1.0/groups?$top=1"}]}')
	echo "$out"
	[ $(($(date +%s) - start)) -lt 15 ]
	[ "$(py 'r["state"]' <<<"$out")" = partial ]
	msg=$(py 'r["failures"]["items"][0]["message"]' <<<"$out")
	echo "$msg"
	[[ "$msg" == *"HTTP 429 TooManyRequests"*"max_wait_s"* ]]
	[ "$(py 'r["summary"]["succeeded"]' <<<"$out")" = 1 ]
}

@test "a wrong client secret gives the AADSTS message and no retry storm" {
	start_fake
	printf 'not-the-secret\n' >"$DIR/secret"
	out=$(run_graph test-graph-calls \
	    '{"requests":[{"path":"/v1.0/groups?$top=1"},{"path":"/v1.0/groups?$top=2"}]}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	msg=$(py 'r["failures"]["items"][0]["message"]' <<<"$out")
	[[ "$msg" == *"tenant contoso: Entra refused the token request"*"AADSTS7000215"*"client_secret_file"* ]]
	# One token request per attempted Graph request, and no Graph call.
	[ "$(py 'sum(1 for q in log if q["path"].endswith("/token"))' <<<"$out")" = 2 ]
	[ "$(py 'sum(1 for q in log if q["path"].startswith("/v1.0/"))' <<<"$out")" = 0 ]
}

@test "a token refused with 401 is renewed once; a second 401 is the answer" {
	start_fake
	fault '{"rules":[{"method":"GET","path":"^/v1.0/groups$","status":401,"times":1}]}'
	out=$(run_graph test-graph-list '{"path":"/v1.0/groups"}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = succeeded ]
	[ "$(py 'sum(1 for q in log if q["path"].endswith("/token"))' <<<"$out")" = 2 ]
	curl -sf -X POST "$BASE/_fake/reset" >/dev/null
	fault '{"rules":[{"method":"GET","path":"^/v1.0/groups$","status":401,"times":5}]}'
	out=$(run_graph test-graph-list '{"path":"/v1.0/groups","n":2}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	[[ "$(py 'r["reason"]' <<<"$out")" == *"HTTP 401 InvalidAuthenticationToken"* ]]
	# A fresh worker: one token, one renewal after the first 401, no more.
	[ "$(py 'sum(1 for q in log if q["path"].endswith("/token"))' <<<"$out")" = 2 ]
	[ "$(py 'sum(1 for q in log if q["path"] == "/v1.0/groups")' <<<"$out")" = 2 ]
}

@test "OData and nested Intune errors reach the run's failures with the request id" {
	start_fake
	fault '{"rules":[{"method":"GET","path":"deviceConfigurations$","status":403,"body_kind":"intune_nested","times":1}]}'
	out=$(run_graph test-graph-calls \
	    '{"requests":[{"path":"/beta/deviceManagement/deviceConfigurations"},{"path":"/v1.0/groups/no-such-group"}]}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	intune=$(py 'r["failures"]["items"][0]["message"]' <<<"$out")
	odata=$(py 'r["failures"]["items"][1]["message"]' <<<"$out")
	echo "$intune"
	echo "$odata"
	[[ "$intune" == "HTTP 403 "* ]]
	[[ "$intune" != *'_version'* ]]
	[[ "$intune" == *"(request-id "* ]]
	[[ "$odata" == "HTTP 404 "*"(request-id "* ]]
	# The id in the message is the one the server logged.
	rid=$(sed -n 's/.*(request-id \([^)]*\)).*/\1/p' <<<"$odata")
	[ -n "$rid" ]
	requests_json | grep -q "$rid" || curl -sf "$BASE/_fake/requests" | head -c 300
}

@test "a \$batch retries its throttled items and returns every answer in request order" {
	start_fake
	fault '{"rules":[{"method":"GET","path":"^/v1.0/groups$","status":429,"retry_after":1,"times":1}]}'
	out=$(run_graph test-graph-batch '{"version":"v1.0","requests":[{"id":"a","method":"GET","url":"/groups?$top=1"},{"id":"b","method":"GET","url":"/groups"},{"id":"c","method":"GET","url":"/groups/no-such-group"}]}')
	echo "$out"
	[ "$(py 'r["result"]["statuses"]' <<<"$out")" = "[200, 200, 404]" ]
	[ "$(py 'sum(1 for q in log if q["path"] == "/v1.0/$batch")' <<<"$out")" -ge 2 ]
	out=$(run_graph test-graph-batch "{\"version\":\"v1.0\",\"requests\":$(python3 -c 'import json; print(json.dumps([{"id":str(i),"method":"GET","url":"/groups"} for i in range(21)]))')}")
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	[[ "$(py 'r["reason"]' <<<"$out")" == *"1 to 20 requests"* ]]
}

@test "the client secret and tokens never reach the store, the logs or any file the runner wrote" {
	start_fake
	run_graph test-graph-list '{"path":"/v1.0/groups"}' >/dev/null
	fault '{"rules":[{"method":"GET","path":".","status":401,"times":2}]}'
	run_graph test-graph-calls '{"requests":[{"path":"/v1.0/groups?$top=1"}]}' >/dev/null
	printf 'wrong-%s\n' "$SECRET" >"$DIR/secret"
	run_graph test-graph-calls '{"requests":[{"path":"/v1.0/groups?$top=2"}]}' >/dev/null
	oprun runs --json >"$DIR/runs.json"
	oprun notifications --user alice --json >"$DIR/notes.json"
	# Every file but the secret file itself and the fake server's fixture.
	files=$(find "$DIR" -type f ! -name secret ! -name fixture.json)
	[ -n "$files" ]
	! grep -l -a -- "$SECRET" $files
	# Access tokens are JWT-shaped: "eyJ..." never appears either.
	! grep -l -a -- "eyJ0eXAi" $files
}

# A delegated token for admin@contoso from the fake sign-in (the
# refresh-token grant stands in for the user's interactive sign-in).
user_token() {
	curl -sf -X POST "$BASE/$TENANT_ID/oauth2/v2.0/token" \
	    -d "client_id=$APP&client_secret=$SECRET&grant_type=refresh_token" \
	    -d "refresh_token=contoso-admin-rt-1&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' \
	    >"$DIR/user.token"
	chmod 600 "$DIR/user.token"
}

start_serve() {
	setsid "$OPRUN_BUILD/oprun" -c "$DIR/oprun.ini" serve \
	    2>>"$DIR/serve.log" &
	SERVE_PID=$!
	for _ in $(seq 100); do
		grep -q "executor .* started" "$DIR/serve.log" 2>/dev/null &&
		    break
		sleep 0.05
	done
}

stop_serve() {
	kill -"${1:-TERM}" -- -"$SERVE_PID" 2>/dev/null || true
	wait "$SERVE_PID" 2>/dev/null || true
}

submit_user() {
	oprun submit test-graph-user --tenant contoso --initiator admin \
	    --payload "${1:-{\}}" --delegated-token-file "$DIR/user.token" "${@:2}"
}

@test "a delegated-token operation runs as the user through oprun serve" {
	start_fake
	user_token
	start_serve
	run submit_user '{"path":"/v1.0/groups?$top=3"}' --json
	echo "$output"
	[ "$status" -eq 0 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$output")
	run oprun wait "$id" --timeout 10
	echo "$output"
	[ "$status" -eq 0 ]
	stop_serve
	# Only the sign-in fetched a token: the run used the user's token.
	out=$(oprun show "$id" --json)
	[ "$(py 'sum(1 for q in log if q["path"].endswith("/token"))' <<<"$out")" = 1 ]
	[ "$(py 'sum(1 for q in log if q["path"] == "/v1.0/groups")' <<<"$out")" = 1 ]
}

@test "a delegated-token operation without a token, or with no runner to hold it, is refused and nothing is created" {
	start_fake
	user_token
	run oprun submit test-graph-user --tenant contoso --initiator admin \
	    --payload '{}'
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"acts as the initiator"*"--delegated-token-file"* ]]
	run submit_user
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no \`oprun serve\` is running"* ]]
	run oprun submit test-graph-list --tenant contoso --initiator admin \
	    --payload '{"path":"/v1.0/groups"}' \
	    --delegated-token-file "$DIR/user.token"
	[ "$status" -eq 2 ]
	[[ "$output" == *"does not act as the initiator"* ]]
	[ "$(oprun runs --json)" = "[]" ]
	[ "$(oprun notifications --user admin --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["notifications"]))')" = 0 ]
}

@test "after a runner restart a queued delegated run fails: the token is gone" {
	start_fake
	user_token
	install -m 644 "$OPRUN_BUILD/test-plugins/slow.so" "$DIR/plugins/"
	printf 'max_concurrent_runs = 1\n' >>"$DIR/oprun.ini"
	start_serve
	oprun submit test-slow --tenant contoso --initiator admin \
	    --payload '{"seconds":30}' >/dev/null
	for _ in $(seq 100); do
		[ "$(oprun runs --state running --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] && break
		sleep 0.05
	done
	run submit_user '{}' --json
	[ "$status" -eq 0 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$output")
	[ "$(oprun show "$id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = queued ]
	stop_serve KILL
	start_serve
	run oprun wait "$id" --timeout 10
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"delegated token no longer available; submit again"* ]]
	stop_serve
}

@test "the delegated token never reaches the store, the logs or any file the runner wrote" {
	start_fake
	user_token
	start_serve
	run submit_user '{}' --json
	[ "$status" -eq 0 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$output")
	oprun wait "$id" --timeout 10
	stop_serve
	token=$(cat "$DIR/user.token")
	[ ${#token} -gt 40 ]
	files=$(find "$DIR" -type f ! -name user.token ! -name secret ! -name fixture.json)
	! grep -l -a -F -- "$token" $files
	! grep -l -a -F -- "$SECRET" $files
}

@test "a plugin decrypts an OMA value and replaces administrative template values through the host client" {
	start_fake
	token=$(curl -sf -X POST "$BASE/contoso/oauth2/v2.0/token" \
	    -d grant_type=client_credentials -d "client_id=$APP" \
	    -d "client_secret=$SECRET" \
	    -d scope=https://graph.microsoft.com/.default | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["access_token"])')
	fx=$BATS_TEST_DIRNAME/../fakegraph/fixture.json
	conf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenants"][0]["deviceConfigurations"][0]["id"])' "$fx")
	ref=$(curl -sf -H "Authorization: Bearer $token" \
	    "$BASE/beta/deviceManagement/deviceConfigurations/$conf" | python3 -c \
	    'import json,sys; print([o for o in json.load(sys.stdin)["omaSettings"] if o.get("isEncrypted")][0]["secretReferenceValueId"])')
	gp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenants"][0]["groupPolicyConfigurations"][0]["id"])' "$fx")
	def=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenants"][0]["groupPolicyDefinitions"][0]["id"])' "$fx")
	dv=$(curl -sf -H "Authorization: Bearer $token" \
	    "$BASE/beta/deviceManagement/groupPolicyConfigurations/$gp/definitionValues?\$expand=definition&\$top=10" |
	    python3 -c 'import json,sys; print([v for v in json.load(sys.stdin)["value"] if v["definition"]["id"] == sys.argv[1]][0]["id"])' "$def")
	bind="https://graph.microsoft.com/beta/deviceManagement/groupPolicyDefinitions('$def')"
	out=$(run_graph test-graph-calls "{\"requests\":[
	    {\"path\":\"/beta/deviceManagement/deviceConfigurations/$conf/getOmaSettingPlainTextValue(secretReferenceValueId='$ref')\"},
	    {\"method\":\"POST\",\"path\":\"/beta/deviceManagement/groupPolicyConfigurations/$gp/updateDefinitionValues\",
	     \"body\":{\"deletedIds\":[\"$dv\"],\"added\":[{\"enabled\":false,\"definition@odata.bind\":\"$bind\"}]}}]}")
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = succeeded ]
	# The function call reached the server as written, and both answered.
	[ "$(py '[q["status"] for q in log if "getOmaSettingPlainTextValue" in q["path"]]' <<<"$out")" = "[200]" ]
	[ "$(py "[q['path'] for q in log if 'getOmaSettingPlainTextValue' in q['path']][0].endswith(\"(secretReferenceValueId='$ref')\")" <<<"$out")" = True ]
	[ "$(py '[q["status"] for q in log if q["path"].endswith("/updateDefinitionValues")]' <<<"$out")" = "[204]" ]
	enabled=$(curl -sf -H "Authorization: Bearer $token" \
	    "$BASE/beta/deviceManagement/groupPolicyConfigurations/$gp/definitionValues?\$expand=definition&\$top=10" |
	    python3 -c 'import json,sys; print([v["enabled"] for v in json.load(sys.stdin)["value"] if v["definition"]["id"] == sys.argv[1]])' "$def")
	[ "$enabled" = "[False]" ]
	# The host logs no response body: the decrypted value is in nothing
	# the runner wrote.
	! grep -rq contoso-oma-wifi-key "$DIR/store" "$DIR/worker.log"
}

# ---- malformed 2xx answers: a failure, never a short list ------------------

# spoil_list RULE: starts the fake server with 10 groups 3 a page (4
# pages) and queues one fault rule; then list_run lists them.  (Not in a
# command substitution: start_fake leaves the server running.)
spoil_list() {
	start_fake 'f["tenants"][0]["groups"] = f["tenants"][0]["groups"][:10]; f["page_sizes"]["groups"] = 3'
	fault "{\"rules\":[$1]}"
}

list_run() {
	run_graph test-graph-list '{"path":"/v1.0/groups"}'
}

# spoiled_run OUT WHAT DONE: the run OUT failed (it did not succeed with
# fewer items); its reason and its one failure say WHAT, name the URL
# and the request-id the server sent with the spoiled answer, and DONE
# (what was not completed); no $skiptoken value appears in them.
spoiled_run() {
	local out=$1 what=$2 done=$3 reason rid
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	reason=$(py 'r["reason"]' <<<"$out")
	echo "reason: $reason"
	[[ "$reason" == *"$what"* ]]
	[[ "$reason" == *"$done"* ]]
	rid=$(py '[q["request_id"] for q in log if q.get("fault")][0]' <<<"$out")
	[[ "$reason" == *"(request-id $rid)"* ]]
	[[ "$reason" == *"$BASE/v1.0/"* ]]
	[ "$(py 'r["failures"]["items"][-1]["message"]' <<<"$out")" = "$reason" ]
	[ "$(py 'all(t.split("=", 1)[1] not in r["reason"] for q in log for t in q["query"].split("&") if t.startswith("$skiptoken="))' <<<"$out")" = True ]
}

@test "a list whose first page is an HTML page fails, naming the URL and the request id" {
	spoil_list '{"path":"^/v1.0/groups$","status":200,"body_kind":"html"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" "GET $BASE/v1.0/groups: page 1 answered HTTP 200 but its Content-Type is text/html; charset=utf-8, not JSON" \
	    "the list was not completed (0 pages read)"
	[ "$(py 'r["result"]["items"]' <<<"$out")" = 0 ]
}

@test "a list fails when a nextLink page is not JSON; the paging token is not in the message" {
	spoil_list '{"path":"^/v1.0/groups$","query":"skiptoken","status":200,"body_kind":"html"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" "page 2 answered HTTP 200 but its Content-Type is text/html" \
	    "the list was not completed (1 page read)"
	[[ "$(py 'r["reason"]' <<<"$out")" == *"$BASE/v1.0/groups?\$skiptoken=<redacted>: page 2"* ]]
	[ "$(py 'r["result"]["items"]' <<<"$out")" = 3 ]
}

@test "a list fails on a page without a value array" {
	spoil_list '{"path":"^/v1.0/groups$","query":"skiptoken","status":200,"body_kind":"no_value"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" 'page 2 answered HTTP 200 but it has no "value" array' \
	    "the list was not completed"
}

@test "a list fails on a page whose value is not an array" {
	spoil_list '{"path":"^/v1.0/groups$","status":200,"body_kind":"value_not_array"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" 'page 1 answered HTTP 200 but its "value" is an object, not an array' \
	    "the list was not completed"
}

@test "a list fails on a page whose @odata.nextLink is not a string, instead of ending there" {
	spoil_list '{"path":"^/v1.0/groups$","status":200,"body_kind":"next_link_not_string"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" 'page 1 answered HTTP 200 but its "@odata.nextLink" is a number, not a string' \
	    "the list was not completed"
}

@test "a list fails on a truncated page" {
	spoil_list '{"path":"^/v1.0/groups$","query":"skiptoken","status":200,"body_kind":"truncated"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" "page 2 answered HTTP 200 but its body is not valid JSON (cut short or garbled)" \
	    "the list was not completed"
}

@test "a list fails on an empty 200 page" {
	spoil_list '{"path":"^/v1.0/groups$","query":"skiptoken","status":200,"body_kind":"empty"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" "page 2 answered HTTP 200 but its body is empty" \
	    "the list was not completed"
}

@test "a list fails on a page of valid JSON sent as text/plain" {
	spoil_list '{"path":"^/v1.0/groups$","status":200,"body_kind":"text_type"}'
	out=$(list_run)
	echo "$out"
	spoiled_run "$out" "page 1 answered HTTP 200 but its Content-Type is text/plain, not JSON" \
	    "the list was not completed"
}

@test "graph_request fails a 2xx answer that says it is JSON but is cut short" {
	start_fake
	fault '{"rules":[{"path":"^/v1.0/groups$","status":200,"body_kind":"truncated"}]}'
	out=$(run_graph test-graph-calls '{"requests":[{"path":"/v1.0/groups?$top=2"}]}')
	echo "$out"
	[ "$(py 'r["state"]' <<<"$out")" = failed ]
	msg=$(py 'r["failures"]["items"][0]["message"]' <<<"$out")
	echo "$msg"
	rid=$(py '[q["request_id"] for q in log if q.get("fault")][0]' <<<"$out")
	[[ "$msg" == "GET $BASE/v1.0/groups?\$top=2: answered HTTP 200 but its body is not valid JSON (cut short or garbled) (request-id $rid); the answer was not used" ]]
}

# spoil_batch RULE: starts the fake server with $batch answers in request
# order and queues one fault rule; then batch_run sends one $batch of two
# GETs, a and b.
spoil_batch() {
	start_fake 'f["batch_shuffle"] = False'
	fault "{\"rules\":[$1]}"
}

batch_run() {
	run_graph test-graph-batch '{"version":"v1.0","requests":[{"id":"a","method":"GET","url":"/groups?$top=1"},{"id":"b","method":"GET","url":"/groups?$top=2"}]}'
}

BATCH_NOT_DONE="the batch was not completed (its items may have run)"

@test "a \$batch answer that is not JSON fails the batch, naming the URL and the request id" {
	spoil_batch '{"path":"/\\$batch$","status":200,"body_kind":"html"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" "POST $BASE/v1.0/\$batch: the \$batch answered HTTP 200 but its Content-Type is text/html; charset=utf-8, not JSON" \
	    "$BATCH_NOT_DONE"
}

@test "a \$batch answer without a responses array fails the batch" {
	spoil_batch '{"path":"/\\$batch$","status":200,"body_kind":"no_responses"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" 'the $batch answered HTTP 200 but it has no "responses" array' \
	    "$BATCH_NOT_DONE"
}

@test "a \$batch answer with a response without an id fails the batch" {
	spoil_batch '{"path":"/\\$batch$","status":200,"body_kind":"item_no_id"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" 'the $batch answered HTTP 200 but its response 1 has no string "id"' \
	    "$BATCH_NOT_DONE"
}

@test "a \$batch answer with a response without a status fails the batch" {
	spoil_batch '{"path":"/\\$batch$","status":200,"body_kind":"item_no_status"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" 'the $batch answered HTTP 200 but its response "a" has no numeric "status"' \
	    "$BATCH_NOT_DONE"
}

@test "a \$batch answer with a response for an id that was not asked fails the batch" {
	spoil_batch '{"path":"/\\$batch$","status":200,"body_kind":"item_unknown_id"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" 'the $batch answered HTTP 200 but its response "fakegraph-unknown-id" answers no request that was sent' \
	    "$BATCH_NOT_DONE"
}

@test "an item missing from a \$batch answer fails that item, without sending it again" {
	spoil_batch '{"path":"/\\$batch$","status":200,"body_kind":"item_missing"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" "POST $BASE/v1.0/\$batch: the \$batch answer (HTTP 200) has no response for item \"a\" (GET /v1.0/groups?\$top=1)" \
	    "the item was not completed and was not sent again (it may have run)"
	[ "$(py 'r["result"]["statuses"]' <<<"$out")" = "[0, 200]" ]
	[ "$(py 'r["summary"]["succeeded"]' <<<"$out")" = 1 ]
	[ "$(py 'sum(1 for q in log if q["path"] == "/v1.0/$batch")' <<<"$out")" = 1 ]
}

@test "a \$batch item whose JSON body is cut short fails that item with its own request id" {
	spoil_batch '{"path":"^/v1.0/groups$","query":"top=1","status":200,"body_kind":"truncated"}'
	out=$(batch_run)
	echo "$out"
	spoiled_run "$out" "POST $BASE/v1.0/\$batch: item \"a\" (GET /v1.0/groups?\$top=1) answered HTTP 200 but its body is not valid JSON (cut short or garbled)" \
	    "the item was not completed"
	[ "$(py '[q["batch_id"] for q in log if q.get("fault")]' <<<"$out")" = "['a']" ]
	[ "$(py 'r["result"]["statuses"]' <<<"$out")" = "[0, 200]" ]
}
