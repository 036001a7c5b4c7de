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
