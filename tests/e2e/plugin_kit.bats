#!/usr/bin/env bats
# The plugin kit: `make install PREFIX=...` ships what a plugin author
# needs (the header and oprun-plugin.pc naming that prefix, versioned
# with plugin.h's ABI and linking with -Wl,-z,defs -lcjson), every file it
# installs is named in the README, and the example plugin of
# CONTRIBUTING.md (between the plugin-example markers) builds
# warning-free against the installed tree with the pkg-config flags,
# exports only its entry symbol, passes `oprun plugins check`, and runs
# to success in `oprun worker --once` on a store of its own.
#
# OPRUN_BUILD is the build directory whose oprun runs the plugin (absolute;
# tests/run-suites.sh sets it, build/asan for the sanitized build).  The
# install itself always comes from the default build directory.

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	: "${OPRUN_BUILD:=$REPO/build}"
	OPRUN_BUILD=$(cd "$OPRUN_BUILD" && pwd)
	KIT="$BATS_FILE_TMPDIR/kit"
	PREFIX="$KIT/prefix"
	mkdir -p "$KIT"
	export REPO OPRUN_BUILD KIT PREFIX
	# A clean make environment: no jobserver or variables inherited from
	# a surrounding `make test`, no BUILD/PREFIX/DESTDIR from the caller.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u DESTDIR -u PREFIX \
	    make -s -C "$REPO" install PREFIX="$PREFIX" \
	    >"$KIT/install.log" 2>&1 || true
	# The example plugin: the ```c block between the markers.
	awk '/<!-- plugin-example:start -->/ { on = 1; next }
	     /<!-- plugin-example:end -->/ { on = 0 }
	     on && /^```/ { next }
	     on { print }' "$REPO/CONTRIBUTING.md" >"$KIT/hello.c"
}

# Prints a message (and the file given, indented) and fails the test.
fail_with() {
	echo "$1" >&2
	[ -z "${2:-}" ] || sed 's/^/    /' "$2" >&2
	return 1
}

@test "make install puts the header, the pkg-config file and oprun under PREFIX" {
	[ -x "$PREFIX/bin/oprun" ] ||
		fail_with "make install PREFIX=$PREFIX did not install bin/oprun:" \
		    "$KIT/install.log"
	[ -f "$PREFIX/include/oprun/plugin.h" ]
	[ -f "$PREFIX/lib/pkgconfig/oprun-plugin.pc" ]
	cmp "$REPO/include/oprun/plugin.h" "$PREFIX/include/oprun/plugin.h"
	run env PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --variable=prefix oprun-plugin
	[ "$status" -eq 0 ]
	[ "$output" = "$PREFIX" ] ||
		fail_with "the installed oprun-plugin.pc says prefix=$output, not $PREFIX"
	run env PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --cflags oprun-plugin
	[ "$status" -eq 0 ]
	[[ "$output" == *"-I$PREFIX/include"* ]]
	[[ "$output" == *"-fvisibility=hidden"* ]]
}

@test "the installed oprun-plugin.pc's version is plugin.h's ABI version" {
	local abi
	[ -f "$PREFIX/lib/pkgconfig/oprun-plugin.pc" ] ||
		fail_with "make install PREFIX=$PREFIX did not install the .pc:" \
		    "$KIT/install.log"
	abi=$(awk '/^#define OPRUN_ABI_MAJOR / { M = $3 }
	    /^#define OPRUN_ABI_MINOR / { m = $3 }
	    END { print M "." m }' "$REPO/include/oprun/plugin.h")
	[[ "$abi" =~ ^[0-9]+\.[0-9]+$ ]]
	run env PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --modversion oprun-plugin
	[ "$status" -eq 0 ]
	[ "$output" = "$abi" ] ||
		fail_with "the installed oprun-plugin.pc says version $output; plugin.h is ABI $abi"
}

@test "the kit links plugins with -Wl,-z,defs and -lcjson" {
	run env PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --libs oprun-plugin
	[ "$status" -eq 0 ]
	[[ " $output " == *" -Wl,-z,defs "* ]] ||
		fail_with "pkg-config --libs oprun-plugin lacks -Wl,-z,defs: $output"
	[[ " $output " == *" -lcjson "* ]] ||
		fail_with "pkg-config --libs oprun-plugin lacks -lcjson: $output"
}

@test "with the kit's flags, a plugin that uses cJSON but leaves out -lcjson does not build" {
	local dir=$BATS_TEST_TMPDIR cflags libs
	cflags=$(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --cflags oprun-plugin)
	libs=$(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --libs oprun-plugin)
	cat >"$dir/usejson.c" <<-'C'
	#include <cjson/cJSON.h>
	#include <oprun/plugin.h>

	OPRUN_EXPORT const struct oprun_plugin *
	oprun_plugin_describe(uint16_t host_abi_major, uint16_t host_abi_minor)
	{
		cJSON_Delete(cJSON_Parse("{}"));
		(void)host_abi_major;
		(void)host_abi_minor;
		return NULL;
	}
	C
	# With everything the kit gives, it links.
	# shellcheck disable=SC2086 # cflags and libs are lists of flags
	run cc -shared -fPIC $cflags -o "$dir/ok.so" "$dir/usejson.c" $libs
	echo "$output"
	[ "$status" -eq 0 ]
	# Without -lcjson, -z defs turns the missing library into a build
	# error instead of a plugin that loads only through the host's cJSON.
	# shellcheck disable=SC2086
	run cc -shared -fPIC $cflags -o "$dir/bad.so" "$dir/usejson.c" \
	    ${libs//-lcjson/}
	echo "$output"
	[ "$status" -ne 0 ] ||
		fail_with "built without -lcjson although the kit's libs are: $libs"
	[[ "$output" == *"undefined reference to"*"cJSON_"* ]]
}

@test "the README's make install row names every file make install installs" {
	local dir=$BATS_TEST_TMPDIR f missing=""
	[ -x "$PREFIX/bin/oprun" ] ||
		fail_with "make install PREFIX=$PREFIX failed:" "$KIT/install.log"
	# shellcheck disable=SC2016 # the backquotes are markdown
	grep '^| `make install` |' "$REPO/README.md" >"$dir/row"
	[ -s "$dir/row" ] || fail_with "no make install row in README.md"
	(cd "$PREFIX" && find . -type f | sed 's|^\./||' | sort) >"$dir/files"
	[ -s "$dir/files" ]
	while read -r f; do
		grep -qF "\`PREFIX/$f\`" "$dir/row" || missing="$missing $f"
	done <"$dir/files"
	[ -z "$missing" ] ||
		fail_with "installed but not named (as \`PREFIX/FILE\`) in README.md's make install row:$missing"
}

@test "the CONTRIBUTING.md example plugin builds with the pkg-config flags and passes plugins check" {
	grep -q 'oprun_plugin_describe' "$KIT/hello.c" ||
		fail_with "no plugin example between the markers in CONTRIBUTING.md"
	cflags=$(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --cflags oprun-plugin)
	libs=$(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
	    pkg-config --libs oprun-plugin)
	# shellcheck disable=SC2086 # cflags and libs are lists of flags
	run cc -shared -fPIC $cflags -Werror -Wall -Wextra \
	    -o "$KIT/hello.so" "$KIT/hello.c" $libs
	echo "$output"
	[ "$status" -eq 0 ]
	# Only the entry symbol is exported.
	run nm -D --defined-only "$KIT/hello.so"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c ' [TDBRVW] ')" -eq 1 ]
	[[ "$output" == *" T oprun_plugin_describe"* ]]
	# No configuration: plugins check needs none.
	cd "$KIT"
	run "$OPRUN_BUILD/oprun" -c "$KIT/none.ini" plugins check hello.so
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"operation hello "*"idempotent cancellable"* ]]
	[ "${lines[-1]}" = "plugin OK" ]
}

@test "the example plugin runs: validate refuses, worker --once succeeds" {
	# Built against the installed header without pkg-config, so this test
	# does not depend on the one above.
	dir="$BATS_TEST_TMPDIR/run"
	mkdir -p "$dir"
	chmod 755 "$dir"
	mkdir -m 755 "$dir/plugins"
	run cc -shared -fPIC -I"$PREFIX/include" -fvisibility=hidden \
	    -Werror -Wall -Wextra -Wl,-z,defs -o "$dir/hello.so" "$KIT/hello.c"
	echo "$output"
	[ "$status" -eq 0 ]
	install -m 644 "$dir/hello.so" "$dir/plugins/"
	cat >"$dir/oprun.ini" <<-'INI'
	[store]
	path = store
	durability = relaxed
	[runner]
	plugin_dir = plugins
	[tenant contoso]
	INI
	oprun() { "$OPRUN_BUILD/oprun" -c "$dir/oprun.ini" "$@"; }

	run oprun config check
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]

	# The validate hook refuses a bad payload: exit 2, nothing written.
	run oprun submit hello --tenant contoso --initiator alice \
	    --payload '{"count": 0}'
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"hello refused the payload: payload.count"* ]]

	run oprun submit hello --tenant contoso --initiator alice \
	    --payload '{"count": 3}' --json
	echo "$output"
	[ "$status" -eq 0 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
	    <<<"$output")

	run oprun worker --once
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"plugin hello: greeting 3 items for alice on contoso"* ]]

	run oprun show "$id" --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 - "$output" <<-'PY'
	import json, sys
	r = json.loads(sys.argv[1])
	assert r["state"] == "succeeded", r["state"]
	assert r["type"] == "hello" and r["tenant"] == "contoso", r
	s = r["summary"]
	assert (s["total"], s["processed"], s["succeeded"], s["failed"]) == \
	    (3, 3, 3, 0), s
	assert r["result"] == {"greeted": 3}, r["result"]
	assert [h["state"] for h in r["history"]] == \
	    ["queued", "running", "succeeded"], r["history"]
	PY

	run oprun check-store
	[ "$status" -eq 0 ]
	[ "$output" = "store OK" ]
}

@test "plugins/example builds out of tree with only the installed header and pkg-config, and runs" {
	local dir=$BATS_TEST_TMPDIR/example prefix=$BATS_TEST_TMPDIR/ex-prefix
	mkdir -p "$dir"
	run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$REPO" \
	    install PREFIX="$prefix"
	[ "$status" -eq 0 ]
	# A copy outside the tree, so nothing but the installed files is used.
	cp "$REPO/plugins/example/example.c" "$REPO/plugins/example/Makefile" \
	    "$dir/"
	run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS \
	    PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -s -C "$dir"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$OPRUN_BUILD/oprun" plugins check "$dir/example.so"
	[ "$status" -eq 0 ]
	[[ "$output" == *"plugin OK"* ]]
	mkdir -m 755 "$dir/plugins"
	install -m 644 "$dir/example.so" "$dir/plugins/"
	printf '[store]\npath = store\ndurability = relaxed\n[runner]\nplugin_dir = plugins\n[tenant contoso]\n[plugin example]\ngreeting = hi\n' >"$dir/oprun.ini"
	run "$OPRUN_BUILD/oprun" -c "$dir/oprun.ini" submit example-greet \
	    --tenant contoso --initiator alice \
	    --payload '{"names":["ann","bob","cy"],"fail":["bob"]}' --json
	[ "$status" -eq 0 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
	    <<<"$output")
	run "$OPRUN_BUILD/oprun" -c "$dir/oprun.ini" worker --once
	[ "$status" -eq 0 ]
	run "$OPRUN_BUILD/oprun" -c "$dir/oprun.ini" wait "$id" --timeout 5
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"partial"*"2 succeeded, 1 failed"* ]]
}
