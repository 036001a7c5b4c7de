#!/usr/bin/env bats
# Plugins built against an older minor ABI keep loading and running: the
# test plugins items and kvconfig are compiled here against the frozen
# ABI 1.1 header (tests/abi/1.1/oprun/plugin.h, plugin.h as it was
# before 1.2) and run next to a 1.2 plugin on the current host.

load helpers

# build_11 NAME: tests/plugins/NAME.c against the 1.1 header.
build_11() {
	cc -std=c11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -shared \
	    -Wl,-z,defs -I"$BATS_TEST_DIRNAME/../abi/1.1" \
	    $(pkg-config --cflags libcjson) \
	    -o "$PLUGIN_DIR/$1.so" "$BATS_TEST_DIRNAME/../plugins/$1.c" -lcjson
	chmod 644 "$PLUGIN_DIR/$1.so"
}

@test "plugins built against ABI 1.1 load and run next to a 1.2 plugin" {
	rm -f "$PLUGIN_DIR"/*.so
	build_11 items
	build_11 kvconfig
	install -m 644 "$OPRUN_BUILD/test-plugins/docstest.so" "$PLUGIN_DIR/"
	run oprun plugins list --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_eval '",".join(sorted(p["name"] + "=" + p["abi"] for p in d["plugins"]))')" = "docstest=1.2,items=1.1,kvconfig=1.1" ]
	a=$(submit_id test-items contoso alice '{"count":3,"fail":[1]}')
	b=$(submit_id test-kv contoso alice '{}')
	c=$(submit_id test-docs contoso alice '{"count":2}')
	oprun worker --once >/dev/null 2>&1 || true
	[ "$(run_field "$a" state)" = partial ]
	[ "$(run_field "$a" summary.failed)" = 1 ]
	[ "$(run_field "$b" state)" = succeeded ]
	[ "$(run_field "$c" state)" = succeeded ]
	assert_store_ok
}
