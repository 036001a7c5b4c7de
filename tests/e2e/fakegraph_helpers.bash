# Helpers for the fake Graph server's tests (fakegraph.bats,
# fakegraph_intune.bats).  Load after helpers: this file replaces its
# setup and teardown.
#
# Every test gets its own temp dir ($FG_DIR) and starts its own server
# with fg_start on an ephemeral port; teardown stops it and fails the
# test if it did not exit 0 or wrote anything to stdout or stderr (a
# sanitizer report, for the sanitized build).
#
# Needs $OPRUN_BUILD/fakegraph (make build/fakegraph); builds nothing.

FIXTURE="$BATS_TEST_DIRNAME/../fakegraph/fixture.json"
SCOPE=https://graph.microsoft.com/.default

setup() {
	FG_DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/fakegraph.XXXXXX")
	FG_PID=
	if [ ! -x "$OPRUN_BUILD/fakegraph" ]; then
		echo "$OPRUN_BUILD/fakegraph is missing: run make build/fakegraph" >&2
		return 1
	fi
}

teardown() {
	local rc=0
	fg_stop || rc=$?
	rm -rf "$FG_DIR"
	return "$rc"
}

# fg_start [FIXTURE]: starts fakegraph on an ephemeral port and waits
# (at most 10 s) for its port file; sets FG_PID and FG (the base URL).
fg_start() {
	local fixture=${1:-$FIXTURE} i
	"$OPRUN_BUILD/fakegraph" --fixture "$fixture" --port 0 \
	    --port-file "$FG_DIR/port" >"$FG_DIR/stdout" 2>"$FG_DIR/stderr" 3>&- &
	FG_PID=$!
	for i in $(seq 200); do
		[ -s "$FG_DIR/port" ] && break
		kill -0 "$FG_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$FG_DIR/port" ]; then
		echo "fakegraph did not start:" >&2
		cat "$FG_DIR/stderr" >&2
		return 1
	fi
	FG="http://127.0.0.1:$(cat "$FG_DIR/port")"
}

# fg_stop: SIGTERM, a bounded wait, then SIGKILL.  Fails unless the
# server exited 0 with nothing on stdout or stderr.
fg_stop() {
	local i rc
	[ -n "$FG_PID" ] || return 0
	kill -TERM "$FG_PID" 2>/dev/null || true
	for i in $(seq 100); do
		[ "$(awk '{ print $3 }' "/proc/$FG_PID/stat" 2>/dev/null)" = Z ] &&
		    break
		kill -0 "$FG_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$FG_PID" 2>/dev/null || true
	rc=0
	wait "$FG_PID" || rc=$?
	FG_PID=
	if [ "$rc" -ne 0 ] || [ -s "$FG_DIR/stderr" ] || [ -s "$FG_DIR/stdout" ]; then
		echo "fakegraph exited $rc; stdout and stderr:" >&2
		cat "$FG_DIR/stdout" "$FG_DIR/stderr" | head -n 60 >&2
		return 1
	fi
}

# fixture_with PYTHON: writes a copy of the fixture changed by the Python
# statements (the document is f) and prints its path.
fixture_with() {
	python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(f, open(sys.argv[3], "w"))
' "$FIXTURE" "$1" "$FG_DIR/fixture.json"
	echo "$FG_DIR/fixture.json"
}

# fx PATH: a value of the shipped fixture (json_get syntax).
fx() {
	json_get "$1" <"$FIXTURE"
}

# req METHOD URL [CURL_ARGS...]: one request; sets STATUS and BODY and
# leaves the response headers in $FG_DIR/headers.
req() {
	local method=$1 url=$2
	shift 2
	STATUS=$(curl -s -X "$method" -o "$FG_DIR/body" -D "$FG_DIR/headers" \
	    -w '%{http_code}' "$@" "$url")
	BODY=$(cat "$FG_DIR/body")
}

# hdr NAME: a header of the last response (without the CR).
hdr() {
	grep -i "^$1:" "$FG_DIR/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

# body PATH / beval EXPR: json_get / json_eval over the last body.
body() {
	printf '%s' "$BODY" | json_get "$1"
}
beval() {
	printf '%s' "$BODY" | json_eval "$1"
}

# token_req CLIENT_ID SECRET [SCOPE] [TENANT]: a client credentials
# request; sets STATUS and BODY.
token_req() {
	req POST "$FG/${4:-contoso}/oauth2/v2.0/token" \
	    --data-urlencode grant_type=client_credentials \
	    --data-urlencode "client_id=$1" --data-urlencode "client_secret=$2" \
	    --data-urlencode "scope=${3:-$SCOPE}"
}

# app_token [APP_INDEX] [TENANT_INDEX]: an access token of a fixture app
# (default: contoso's first app, which has ReadWrite roles).
app_token() {
	local a=${1:-0} t=${2:-0}
	token_req "$(fx "tenants.$t.apps.$a.client_id")" \
	    "$(fx "tenants.$t.apps.$a.client_secret")" "$SCOPE" \
	    "$(fx "tenants.$t.name")"
	[ "$STATUS" = 200 ] || return 1
	body access_token
}

# claims TOKEN: the decoded payload of a JWT-shaped token.
claims() {
	python3 -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.dumps(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))))
' "$1"
}

# graph METHOD PATH [CURL_ARGS...]: a Graph request with $TOKEN.
graph() {
	local method=$1 path=$2
	shift 2
	req "$method" "$FG$path" -H "Authorization: Bearer $TOKEN" "$@"
}

# collect URL EXPR [CURL_ARGS...]: GETs URL and every @odata.nextLink
# verbatim (at most 50 pages); leaves EXPR (Python over an item v) of
# every item in $FG_DIR/items, one a line, and sets PAGES.
collect() {
	local url=$1 expr=$2
	shift 2
	PAGES=0
	: >"$FG_DIR/items"
	while [ -n "$url" ] && [ "$PAGES" -lt 50 ]; do
		req GET "$url" -H "Authorization: Bearer $TOKEN" "$@"
		if [ "$STATUS" != 200 ]; then
			echo "page $PAGES: $STATUS $BODY" >&2
			return 1
		fi
		beval "\"\\n\".join([d.get(\"@odata.nextLink\", \"\")] + [str($expr) for v in d[\"value\"]])" \
		    >"$FG_DIR/page"
		url=$(head -n 1 "$FG_DIR/page")
		tail -n +2 "$FG_DIR/page" >>"$FG_DIR/items"
		PAGES=$((PAGES + 1))
	done
	[ -z "$url" ]
}

# follow URL [CURL_ARGS...]: collect for the ids, left in $FG_DIR/ids.
follow() {
	local url=$1
	shift
	collect "$url" 'v["id"]' "$@" && cp "$FG_DIR/items" "$FG_DIR/ids"
}
