#!/usr/bin/env bats
# The docs say what the code does: README.md, CONTRIBUTING.md and the
# comments of include/oprun/plugin.h are checked here against the binary,
# the header and the Makefile, so they cannot drift apart unnoticed.
#
# OPRUN_BUILD is the build directory whose oprun and test plugins are
# used (absolute; tests/run-suites.sh sets it, build/asan for the
# sanitized build).  Every test works in its own $BATS_TEST_TMPDIR.

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	: "${OPRUN_BUILD:=$REPO/build}"
	OPRUN_BUILD=$(cd "$OPRUN_BUILD" && pwd)
	export REPO OPRUN_BUILD
}

# Prints a message (and the file given, indented) and fails the test.
fail_with() {
	echo "$1" >&2
	[ -z "${2:-}" ] || sed 's/^/    /' "$2" >&2
	return 1
}

# The function members of every struct in plugin.h (`(*name)(` on a line
# indented by one tab, so not a parameter), one a line; with "host", only
# those of struct oprun_host.
header_functions() {
	if [ "${1:-}" = host ]; then
		awk '/^struct oprun_host \{/ { on = 1; next }
		     on && /^\};/ { exit }
		     on { print }' "$REPO/include/oprun/plugin.h"
	else
		cat "$REPO/include/oprun/plugin.h"
	fi | grep $'^\t[^\t ]' | grep -o '(\*[a-z_]*)(' | tr -d '(*)' | sort -u
}

# The markdown table that starts with the line HEADER in FILE: that line
# and every line after it up to the first that is not a table row.
md_table() {
	awk -v header="$2" '$0 == header { on = 1 }
	    on && !/^\|/ { exit }
	    on { print }' "$1"
}

@test "the README's oprun help block is exactly what oprun help prints" {
	local dir=$BATS_TEST_TMPDIR
	awk '/^\$ oprun help$/ { on = 1; next }
	     on && /^```/ { exit }
	     on { print }' "$REPO/README.md" >"$dir/readme-help"
	[ -s "$dir/readme-help" ] ||
		fail_with "no \`\$ oprun help\` block in README.md"
	"$OPRUN_BUILD/oprun" help >"$dir/help"
	diff -u "$dir/readme-help" "$dir/help" >"$dir/diff" ||
		fail_with "README.md's help block (-) differs from oprun help (+):" \
		    "$dir/diff"
}

@test "every host function of plugin.h is a row of CONTRIBUTING's host API table" {
	local dir=$BATS_TEST_TMPDIR m missing=""
	header_functions host >"$dir/members"
	[ "$(wc -l <"$dir/members")" -ge 15 ] ||
		fail_with "found too few members in struct oprun_host:" \
		    "$dir/members"
	# A markdown table ends at the first line that is not a row, so a
	# blank line inside it would cut the rows after it off.
	md_table "$REPO/CONTRIBUTING.md" '| member | contract |' |
	    cut -d'|' -f2 >"$dir/first-column"
	while read -r m; do
		grep -q "\`$m(" "$dir/first-column" || missing="$missing $m"
	done <"$dir/members"
	[ -z "$missing" ] ||
		fail_with "not in CONTRIBUTING.md's host API table (one contiguous table under '| member | contract |'):$missing" \
		    "$dir/first-column"
}

@test "the docs name only host functions that plugin.h declares" {
	local dir=$BATS_TEST_TMPDIR name bad=""
	header_functions >"$dir/functions"
	echo oprun_plugin_describe >>"$dir/functions"
	# NAME() in the header's comments, host->NAME in the docs and the
	# example plugin (`host->member` is CONTRIBUTING's placeholder).
	{
		grep -o '[a-z_][a-z_]*()' "$REPO/include/oprun/plugin.h" |
		    sed 's/()$//'
		grep -oh 'host->[a-z_]*' "$REPO/README.md" \
		    "$REPO/CONTRIBUTING.md" "$REPO/plugins/example/example.c" |
		    sed 's/^host->//' | grep -vx member
	} | sort -u >"$dir/named"
	[ -s "$dir/named" ]
	while read -r name; do
		grep -qx "$name" "$dir/functions" || bad="$bad $name"
	done <"$dir/named"
	[ -z "$bad" ] ||
		fail_with "named in the docs but not declared in plugin.h:$bad"
}

@test "README and CONTRIBUTING state plugin.h's ABI version" {
	local abi
	abi=$(awk '/^#define OPRUN_ABI_MAJOR / { M = $3 }
	    /^#define OPRUN_ABI_MINOR / { m = $3 }
	    END { print M "." m }' "$REPO/include/oprun/plugin.h")
	[[ "$abi" =~ ^[0-9]+\.[0-9]+$ ]]
	run grep -o 'is ABI version \*\*[0-9.]*\*\*' "$REPO/CONTRIBUTING.md"
	[ "$output" = "is ABI version **$abi**" ] ||
		fail_with "CONTRIBUTING.md says '$output'; plugin.h is $abi"
	run grep -o 'the plugin ABI ([0-9.]*)' "$REPO/README.md"
	[ "$output" = "the plugin ABI ($abi)" ] ||
		fail_with "README.md says '$output'; plugin.h is $abi"
}

@test "every Debian package make deps installs is in the README's dependencies table" {
	local dir=$BATS_TEST_TMPDIR p missing=""
	# DEBS = ... with its continuation lines.
	awk '/^DEBS[ \t]*=/ { on = 1; sub(/^DEBS[ \t]*=/, "") }
	     on { cont = sub(/\\$/, ""); print; if (!cont) exit }' \
	    "$REPO/Makefile" | tr -s ' \t' '\n' | grep -v '^$' >"$dir/debs"
	[ "$(wc -l <"$dir/debs")" -ge 10 ] ||
		fail_with "found too few packages in the Makefile's DEBS:" \
		    "$dir/debs"
	md_table "$REPO/README.md" '| package | why |' | cut -d'|' -f2 \
	    >"$dir/first-column"
	while read -r p; do
		grep -q "\`$p\`" "$dir/first-column" || missing="$missing $p"
	done <"$dir/debs"
	[ -z "$missing" ] ||
		fail_with "not in README.md's dependencies table:$missing"
}

@test "the README tour, pasted as a script, prints what the README shows" {
	local dir=$BATS_TEST_TMPDIR
	# The tour's blocks in order: ```sh lines and the "$ " lines of
	# ```console blocks make the script (but not `make ...`: the build is
	# there already); the other console lines are what it must print.
	awk '/^## A 5-minute tour/ { on = 1; next }
	     on && /^## / { exit }
	     on' "$REPO/README.md" >"$dir/tour.md"
	awk -v script="$dir/script" -v expected="$dir/expected" '
	    /^```(sh|console)$/ { kind = substr($0, 4); next }
	    /^```/ { kind = ""; next }
	    kind == "sh" && !/^make / { print >script }
	    kind == "console" && /^\$ / { print substr($0, 3) >script }
	    kind == "console" && !/^\$ / { print >expected }' "$dir/tour.md"
	grep -q '^oprun cancel 4' "$dir/script" ||
		fail_with "no tour with a cancel step in README.md:" "$dir/script"
	echo wait >>"$dir/script" # for any background job the tour left
	# The tour works in /tmp/tour; this one in its own directory.
	sed -i "s|/tmp/tour|$dir/tour|g" "$dir/script" "$dir/expected"
	# It starts in a checkout ($PWD/build): here, one whose build is
	# $OPRUN_BUILD.
	mkdir "$dir/src"
	ln -s "$OPRUN_BUILD" "$dir/src/build"
	cd "$dir/src"
	# The group kill of timeout also stops what the script left running.
	timeout 300 bash "$dir/script" >"$dir/actual" 2>&1 ||
		fail_with "the tour failed or hung; it printed:" "$dir/actual"
	# Times and process ids differ from run to run.
	sed -E -i 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z/TIME/g;
	    s/(worker:|executor )[0-9]+/\1PID/g' \
	    "$dir/expected" "$dir/actual"
	diff -u "$dir/expected" "$dir/actual" >"$dir/diff" ||
		fail_with "README.md's tour (-) differs from what it prints (+):" \
		    "$dir/diff"
}

@test "key/value storage works in init, validate and run, and kv_get adds no NUL" {
	local dir=$BATS_TEST_TMPDIR/kv id
	mkdir -p "$dir"
	chmod 755 "$dir"
	mkdir -m 755 "$dir/plugins"
	cat >"$dir/kvprobe.c" <<-'C'
	#include <stdio.h>
	#include <string.h>

	#include <oprun/plugin.h>

	static int init_put = -2;

	static int
	probe_init(const struct oprun_host *host, struct oprun_ctx *ctx,
	    char *err, size_t errlen)
	{
		(void)err;
		(void)errlen;
		init_put = host->kv_put(ctx, "init", "i", 1);
		return 0;
	}

	/* kv_get of key into 8 bytes of 'X': "RC LEN BYTES", a NUL as 0. */
	static void
	probe_get(const struct oprun_host *host, struct oprun_ctx *ctx,
	    const char *key, size_t cap, char *out, size_t outlen)
	{
		char buf[8];
		size_t len = 0;
		int rc;

		memset(buf, 'X', sizeof(buf));
		rc = host->kv_get(ctx, key, buf, cap, &len);
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] == '\0')
				buf[i] = '0';
		snprintf(out, outlen, "%d %zu %.8s", rc, len, buf);
	}

	static int
	probe_validate(const struct oprun_host *host, struct oprun_ctx *ctx,
	    const char *payload, char *err, size_t errlen)
	{
		char seen[64];

		(void)payload;
		probe_get(host, ctx, "init", 8, seen, sizeof(seen));
		if (host->kv_put(ctx, "validate", seen, strlen(seen)) != 0) {
			snprintf(err, errlen, "kv_put failed in validate");
			return -1;
		}
		return 0;
	}

	static enum oprun_outcome
	probe_run(const struct oprun_host *host, struct oprun_ctx *ctx,
	    const struct oprun_run_info *run)
	{
		char in_validate[64], in_run[64], part[64], result[512];
		size_t len = 0;

		(void)run;
		memset(in_validate, 0, sizeof(in_validate));
		if (host->kv_get(ctx, "validate", in_validate,
		    sizeof(in_validate) - 1, &len) != 0)
			snprintf(in_validate, sizeof(in_validate), "none");
		probe_get(host, ctx, "init", 8, in_run, sizeof(in_run));
		host->kv_put(ctx, "long", "hello world", 11);
		probe_get(host, ctx, "long", 5, part, sizeof(part));
		snprintf(result, sizeof(result), "{\"init_put\":%d,"
		    "\"validate_get\":\"%s\",\"run_get\":\"%s\","
		    "\"run_get_part\":\"%s\"}", init_put, in_validate, in_run,
		    part);
		host->set_result(ctx, result);
		return OPRUN_OK;
	}

	static const struct oprun_operation probe_op = {
		.size = sizeof(struct oprun_operation),
		.type = "kv-probe",
		.description = "kv in every callback",
		.validate = probe_validate,
		.run = probe_run,
	};

	static const struct oprun_operation *const probe_ops[] = {
		&probe_op,
		NULL,
	};

	static const struct oprun_plugin probe_plugin = {
		.size = sizeof(struct oprun_plugin),
		.abi_major = OPRUN_ABI_MAJOR,
		.abi_minor = OPRUN_ABI_MINOR,
		.name = "kvprobe",
		.version = "1.0.0",
		.operations = probe_ops,
		.init = probe_init,
	};

	OPRUN_EXPORT const struct oprun_plugin *
	oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
	{
		(void)host_abi_major;
		(void)host_abi_minor;
		return &probe_plugin;
	}
	C
	run cc -shared -fPIC -I"$REPO/include" -fvisibility=hidden -Wall \
	    -Wextra -Werror -Wl,-z,defs -o "$dir/plugins/kvprobe.so" \
	    "$dir/kvprobe.c"
	echo "$output"
	[ "$status" -eq 0 ]
	chmod 644 "$dir/plugins/kvprobe.so"
	printf '[store]\npath = store\ndurability = relaxed\n[runner]\nplugin_dir = plugins\n[tenant contoso]\n' \
	    >"$dir/oprun.ini"
	oprun() { "$OPRUN_BUILD/oprun" -c "$dir/oprun.ini" "$@"; }
	run oprun submit kv-probe --tenant contoso --initiator alice \
	    --payload '{}' --json
	echo "$output"
	[ "$status" -eq 0 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
	    <<<"$output")
	run oprun worker --once
	echo "$output"
	[ "$status" -eq 0 ]
	run oprun show "$id" --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 - "$output" <<-'PY'
	import json, sys
	r = json.loads(sys.argv[1])
	assert r["state"] == "succeeded", r["state"]
	res = r["result"]
	# init could write; validate (in the submitting process) read what
	# init wrote there; run read it too.  kv_get copies the value and
	# nothing more: the byte after it is still 'X', not a NUL.
	assert res["init_put"] == 0, res
	assert res["validate_get"] == "0 1 iXXXXXXX", res
	assert res["run_get"] == "0 1 iXXXXXXX", res
	# A value longer than cap: cap bytes copied, len the full size.
	assert res["run_get_part"] == "0 11 helloXXX", res
	PY
}
