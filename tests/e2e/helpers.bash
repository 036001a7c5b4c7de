# Shared setup for the end-to-end tests: every test gets its own temp dir
# with a plugin directory (the good test plugins), a config and a store,
# and an `oprun` function bound to that config.  Background processes a
# test starts with `start_bg` are stopped by teardown.
#
# OPRUN_BUILD is the build directory to test (tests/run-suites.sh sets it
# to an absolute path; build/asan for the sanitized build).

: "${OPRUN_BUILD:=$BATS_TEST_DIRNAME/../../build}"
OPRUN_BUILD=$(cd "$OPRUN_BUILD" && pwd)
export OPRUN_BUILD

# The plugins every test gets; crash.so would kill an in-process worker,
# badabi.so and nosym.so are copied in only by the loader tests.
GOOD_PLUGINS="instant items slow kvconfig"

# Writes the standard config to $CFG; extra lines given as arguments are
# appended (they land in the last section, [tenant fabrikam], unless they
# open a section of their own).
write_config() {
	{
		printf '[store]\npath = store\ndurability = relaxed\n'
		printf '[runner]\nplugin_dir = plugins\n'
		printf '[tenant contoso]\n[tenant fabrikam]\n'
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >"$CFG"
}

oprun_setup() {
	TEST_DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/oprun.XXXXXX")
	PLUGIN_DIR="$TEST_DIR/plugins"
	CFG="$TEST_DIR/oprun.ini"
	PIDS_FILE="$TEST_DIR/pids"
	mkdir -m 755 "$PLUGIN_DIR"
	for p in $GOOD_PLUGINS; do
		install -m 644 "$OPRUN_BUILD/test-plugins/$p.so" "$PLUGIN_DIR/"
	done
	: >"$PIDS_FILE"
	write_config
	export TEST_DIR PLUGIN_DIR CFG PIDS_FILE
}

oprun_teardown() {
	local pid i
	if [ -n "${PIDS_FILE:-}" ] && [ -f "$PIDS_FILE" ]; then
		while read -r pid; do
			[ -n "$pid" ] || continue
			kill -TERM "$pid" 2>/dev/null || continue
			for i in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		done <"$PIDS_FILE"
	fi
	if [ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ]; then
		chmod -R u+rwX "$TEST_DIR" 2>/dev/null || true
		rm -rf "$TEST_DIR"
	fi
}

setup() {
	oprun_setup
}

teardown() {
	oprun_teardown
}

oprun() {
	"$OPRUN_BUILD/oprun" -c "$CFG" "$@"
}

# start_bg OUTFILE CMD [ARGS...]: runs CMD in the background with stdout
# and stderr to OUTFILE and fd 3 closed (bats waits on fd 3), records its
# PID for teardown and sets BG_PID.
start_bg() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 3>&- &
	BG_PID=$!
	echo "$BG_PID" >>"$PIDS_FILE"
}

# stop_bg PID: SIGTERM, then waits (bounded) for it; returns its status.
# Call it directly, not through `run` (a subshell cannot wait for it).
stop_bg() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid"
}

# json_get PATH: reads JSON on stdin and prints the value at PATH, a
# dot-separated list of keys and array indexes ("summary.processed",
# "failures.items.0.item", "" for the whole document, "length" after an
# array or object for its size).  Strings print raw, booleans as
# true/false, null as null, objects and arrays as compact JSON.
json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
path = sys.argv[1]
for part in (path.split(".") if path else []):
    if part == "length" and isinstance(v, (list, dict)):
        v = len(v)
    elif isinstance(v, list):
        v = v[int(part)]
    else:
        v = v[part]
if isinstance(v, bool):
    print("true" if v else "false")
elif v is None:
    print("null")
elif isinstance(v, (dict, list)):
    print(json.dumps(v, separators=(",", ":"), sort_keys=True))
elif isinstance(v, float) and v.is_integer():
    print(int(v))
else:
    print(v)
' "$1"
}

# json_eval EXPR: reads JSON on stdin as d and prints the Python
# expression EXPR, e.g. json_eval '[r["id"] for r in d]'.
json_eval() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d})
if isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (dict, list)):
    print(json.dumps(v, separators=(",", ":"), sort_keys=True))
else:
    print(v)
' "$1"
}

# submit_id TYPE TENANT INITIATOR PAYLOAD [ARGS...]: submits and prints
# the new (or deduplicated) run's id; fails the test if submit fails.
submit_id() {
	local type=$1 tenant=$2 initiator=$3 payload=$4 out
	shift 4
	out=$(oprun submit "$type" --tenant "$tenant" --initiator "$initiator" \
	    --payload "$payload" --json "$@" 2>/dev/null) || {
		echo "submit $type failed" >&2
		return 1
	}
	printf '%s' "$out" | json_get id
}

# run_field ID PATH: a field of `oprun show ID --json`.
run_field() {
	oprun show "$1" --json 2>/dev/null | json_get "$2"
}

# runs_count [FILTERS...]: the number of runs `oprun runs --json` lists.
runs_count() {
	oprun runs --json "$@" 2>/dev/null | json_get length
}

# wait_state ID STATE [TENTHS]: polls until run ID is in STATE, at most
# TENTHS tenths of a second (default 300); fails if it never is.
wait_state() {
	local id=$1 want=$2 n=${3:-300} i state=
	for i in $(seq "$n"); do
		state=$(run_field "$id" state)
		[ "$state" = "$want" ] && return 0
		sleep 0.1
	done
	echo "run $id is '$state', expected '$want'" >&2
	return 1
}

# wait_terminal ID [TENTHS]: polls until run ID is in a terminal state.
wait_terminal() {
	local id=$1 n=${2:-300} i state=
	for i in $(seq "$n"); do
		state=$(run_field "$id" state)
		case $state in
		succeeded | partial | failed | canceled) return 0 ;;
		esac
		sleep 0.1
	done
	echo "run $id is still '$state'" >&2
	return 1
}

# assert_store_ok: `oprun check-store` exits 0 and prints "store OK".
assert_store_ok() {
	run oprun check-store
	if [ "$status" -ne 0 ] || [ "$output" != "store OK" ]; then
		echo "check-store: status $status" >&2
		echo "$output" >&2
		return 1
	fi
}

# assert_nothing_written USER...: `oprun runs --json` is [] and none of
# USERs has a notification.
assert_nothing_written() {
	local u
	run oprun runs --json
	[ "$status" -eq 0 ] || return 1
	if [ "$output" != "[]" ]; then
		echo "runs: $output" >&2
		return 1
	fi
	for u in "$@"; do
		run oprun notifications --user "$u" --json
		[ "$status" -eq 0 ] || return 1
		if [ "$(printf '%s' "$output" | json_get notifications.length)" != 0 ]; then
			echo "notifications of $u: $output" >&2
			return 1
		fi
	done
}
