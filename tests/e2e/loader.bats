#!/usr/bin/env bats
# Plugin loading: each refusal gets its own clear line (a warning on
# stderr for commands that load plugins, a problem for `config check`),
# and the plugins that were not refused keep working.

bats_require_minimum_version 1.5.0
load helpers

# remaining_plugins_work [TYPE]: test-instant (or TYPE) can still be
# submitted and run to success by a worker.
remaining_plugins_work() {
	local type=${1:-test-instant} id
	run --separate-stderr oprun submit "$type" --tenant contoso \
	    --initiator alice --payload '{"count":1}' --json
	[ "$status" -eq 0 ]
	id=$(printf '%s' "$output" | json_get id)
	run oprun worker --once
	[ "$status" -eq 0 ]
	[ "$(run_field "$id" state)" = succeeded ]
}

# one_refusal PATTERN: `oprun plugins list` exits 0 and prints exactly
# one "oprun: warning: " line on stderr, matching the glob PATTERN; and
# `oprun config check` exits 2 listing the same refusal, without the
# prefix.
one_refusal() {
	local pattern=$1
	run --separate-stderr oprun plugins list
	echo "stderr=[$stderr]"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "oprun: warning: "$pattern ]]
	run --separate-stderr oprun config check
	echo "config check: status=$status stdout=[$output] stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == $pattern ]]
	[[ "$output" != *"configuration OK"* ]]
}

@test "all good plugins load and config check prints configuration OK" {
	run --separate-stderr oprun plugins list --json
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(printf '%s' "$output" | json_eval 'sorted(p["name"] for p in d["plugins"])')" = '["instant","items","kvconfig","slow"]' ]
	[ "$(printf '%s' "$output" | json_get refused.length)" -eq 0 ]
	run --separate-stderr oprun config check
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
	[ -z "$stderr" ]
}

@test "a plugin built for another ABI major is refused with both versions and the fix" {
	install -m 644 "$OPRUN_BUILD/test-plugins/badabi.so" "$PLUGIN_DIR/"
	one_refusal "plugin $PLUGIN_DIR/badabi.so: ABI 2.0, runner provides *; rebuild *"
	run --separate-stderr oprun plugins list --json
	[ "$(printf '%s' "$output" | json_get refused.length)" -eq 1 ]
	[[ "$(printf '%s' "$output" | json_get refused.0)" == *"ABI 2.0"*rebuild* ]]
	[ "$(printf '%s' "$output" | json_eval '"badabi" in [p["name"] for p in d["plugins"]]')" = false ]
	# Its operation does not exist.
	run --separate-stderr oprun submit test-badabi --tenant contoso \
	    --initiator alice --payload '{}'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown operation type 'test-badabi'"* ]]
	remaining_plugins_work
}

@test "a shared object without the entry symbol is refused, naming the symbol" {
	install -m 644 "$OPRUN_BUILD/test-plugins/nosym.so" "$PLUGIN_DIR/"
	one_refusal "plugin $PLUGIN_DIR/nosym.so: has no oprun_plugin_describe symbol*"
	remaining_plugins_work
}

@test "a plugin copied in twice: both copies are refused, naming both files" {
	install -m 644 "$OPRUN_BUILD/test-plugins/instant.so" "$PLUGIN_DIR/instant2.so"
	run --separate-stderr oprun plugins list --json
	echo "stderr=[$stderr]"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "oprun: warning: "*"$PLUGIN_DIR/instant.so"* ]]
	[[ "$stderr" == *"$PLUGIN_DIR/instant2.so"* ]]
	[[ "$stderr" == *"both refused"* ]]
	[ "$(printf '%s' "$output" | json_eval 'sorted(p["name"] for p in d["plugins"])')" = '["items","kvconfig","slow"]' ]
	run --separate-stderr oprun config check
	[ "$status" -eq 2 ]
	[[ "$stderr" == *instant.so*instant2.so*"both refused"* ]]
	# Neither provides test-instant now ...
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator alice --payload '{}'
	[ "$status" -eq 2 ]
	[[ "${stderr_lines[-1]}" == *"unknown operation type 'test-instant'"* ]]
	# ... and the other plugins still work.
	remaining_plugins_work test-items
}

@test "a plugin file writable by group is refused and the others still work" {
	chmod 664 "$PLUGIN_DIR/items.so"
	one_refusal "plugin $PLUGIN_DIR/items.so: refused: the file is writable by group or others; run \`chown root * && chmod go-w *\`"
	run --separate-stderr oprun submit test-items --tenant contoso \
	    --initiator alice --payload '{"count":1}'
	[ "$status" -eq 2 ]
	[[ "${stderr_lines[-1]}" == *"unknown operation type 'test-items'"* ]]
	remaining_plugins_work
}

@test "a plugin file writable by others is refused" {
	chmod 646 "$PLUGIN_DIR/slow.so"
	one_refusal "plugin $PLUGIN_DIR/slow.so: refused: the file is writable by group or others*"
	remaining_plugins_work
}

@test "a plugin file owned by another user is refused and the others still work" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown the plugin"
	chown nobody "$PLUGIN_DIR/slow.so"
	one_refusal "plugin $PLUGIN_DIR/slow.so: refused: the file is owned by another user*"
	remaining_plugins_work
}

@test "a plugin directory writable by others is refused as a whole and nothing loads" {
	chmod 777 "$PLUGIN_DIR"
	one_refusal "plugin directory $PLUGIN_DIR: refused: it is writable by group or others*"
	run oprun plugins list
	[[ "$output" == *"(no plugins loaded)"* ]]
	# Fail closed: nothing can be submitted ...
	run --separate-stderr oprun submit test-instant --tenant contoso \
	    --initiator alice --payload '{}'
	[ "$status" -eq 2 ]
	[[ "${stderr_lines[-1]}" == *"unknown operation type 'test-instant'"* ]]
	# ... until the directory is fixed.
	chmod 755 "$PLUGIN_DIR"
	remaining_plugins_work
}

@test "a symbolic link in the plugin directory is refused" {
	ln -s "$PLUGIN_DIR/instant.so" "$PLUGIN_DIR/link.so"
	one_refusal "plugin $PLUGIN_DIR/link.so: cannot be opened: *symbolic links are refused*"
	remaining_plugins_work
}

@test "a directory named like a plugin is refused as not a regular file" {
	mkdir -m 755 "$PLUGIN_DIR/sub.so"
	one_refusal "plugin $PLUGIN_DIR/sub.so: is not a regular file*"
	remaining_plugins_work
}

@test "files not named *.so are ignored" {
	install -m 644 "$OPRUN_BUILD/test-plugins/badabi.so" "$PLUGIN_DIR/badabi.so.disabled"
	echo "not a plugin" >"$PLUGIN_DIR/README"
	run --separate-stderr oprun config check
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
	[ -z "$stderr" ]
}

@test "several refusals are each reported on their own line" {
	install -m 644 "$OPRUN_BUILD/test-plugins/badabi.so" "$PLUGIN_DIR/"
	install -m 644 "$OPRUN_BUILD/test-plugins/nosym.so" "$PLUGIN_DIR/"
	chmod 664 "$PLUGIN_DIR/items.so"
	run --separate-stderr oprun config check
	echo "$stderr"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[[ "$stderr" == *"badabi.so: ABI 2.0"* ]]
	[[ "$stderr" == *"nosym.so: has no oprun_plugin_describe"* ]]
	[[ "$stderr" == *"items.so: refused: the file is writable by group or others"* ]]
	remaining_plugins_work
}

@test "plugins check accepts a good plugin file" {
	run --separate-stderr oprun plugins check "$OPRUN_BUILD/test-plugins/items.so"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "plugin OK" ]
	[[ "$output" == *"operation test-items"* ]]
	[ -z "$stderr" ]
}

@test "plugins check refuses a plugin for another ABI with exit status 2" {
	run --separate-stderr oprun plugins check "$OPRUN_BUILD/test-plugins/badabi.so"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "oprun plugins check: plugin "*"badabi.so: ABI 2.0"*rebuild* ]]
}

@test "plugins check refuses a file without the entry symbol and an unsafe file" {
	run --separate-stderr oprun plugins check "$OPRUN_BUILD/test-plugins/nosym.so"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"has no oprun_plugin_describe symbol"* ]]
	install -m 666 "$OPRUN_BUILD/test-plugins/instant.so" "$TEST_DIR/open.so"
	run --separate-stderr oprun plugins check "$TEST_DIR/open.so"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"writable by group or others"* ]]
	run --separate-stderr oprun plugins check "$TEST_DIR/missing.so"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"missing.so: cannot be opened"* ]]
}

@test "a plugin whose init refuses fails closed: submit is refused with its reason" {
	write_config '[plugin kvconfig]' 'greeting ='
	run --separate-stderr oprun submit test-kv --tenant contoso \
	    --initiator alice --payload '{}'
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"plugin kvconfig refused to start: greeting must not be empty"* ]]
	[ "$(runs_count)" -eq 0 ]
	remaining_plugins_work
}

@test "a queued run whose plugin refuses to start is failed with the plugin's reason" {
	id=$(submit_id test-kv contoso alice '{}')
	write_config '[plugin kvconfig]' 'greeting ='
	run oprun worker --once
	[ "$status" -eq 0 ]
	[ "$(run_field "$id" state)" = failed ]
	[[ "$(run_field "$id" reason)" == *"plugin kvconfig refused to start: greeting must not be empty"* ]]
	assert_store_ok
}

# build_plugin NAME: compiles $TEST_DIR/NAME.c against the plugin header,
# as a plugin author would (without -Wl,-z,defs, so undefined symbols
# reach the loader), into $PLUGIN_DIR/NAME.so.
build_plugin() {
	cc -shared -fPIC -fvisibility=hidden \
	    -I"$BATS_TEST_DIRNAME/../../include" \
	    -o "$PLUGIN_DIR/$1.so" "$TEST_DIR/$1.c"
	chmod 644 "$PLUGIN_DIR/$1.so"
}

# plugin_source TYPE OPSIZE RUNBODY: a plugin "TYPE" whose one operation
# has .size = OPSIZE and whose run does RUNBODY.
plugin_source() {
	cat <<-C
	#include <oprun/plugin.h>
	extern int helper_from_libfoo(void);
	static enum oprun_outcome
	op_run(const struct oprun_host *h, struct oprun_ctx *c,
	    const struct oprun_run_info *r)
	{
		(void)h; (void)c; (void)r;
		$3
		return OPRUN_OK;
	}
	static const struct oprun_operation op = {
		.size = $2, .type = "test-$1", .run = op_run,
	};
	static const struct oprun_operation *const ops[] = { &op, 0 };
	static const struct oprun_plugin plugin = {
		.size = sizeof(struct oprun_plugin),
		.abi_major = OPRUN_ABI_MAJOR, .abi_minor = OPRUN_ABI_MINOR,
		.name = "$1", .version = "1.0.0", .operations = ops,
	};
	OPRUN_EXPORT const struct oprun_plugin *
	oprun_plugin_describe(uint16_t a, uint16_t b)
	{
		(void)a; (void)b;
		return &plugin;
	}
	C
}

@test "a plugin with an undefined symbol is named by its file and told which library to link" {
	# (cJSON itself would resolve against oprun's own copy.)
	plugin_source undef 'sizeof(struct oprun_operation)' \
	    'return helper_from_libfoo() ? OPRUN_OK : OPRUN_FAILED;' >"$TEST_DIR/undef.c"
	build_plugin undef
	one_refusal "plugin $PLUGIN_DIR/undef.so: cannot be loaded: undefined symbol helper_from_libfoo; link the library that provides it when building the plugin (e.g. -lcjson*"
	run --separate-stderr oprun plugins check "$PLUGIN_DIR/undef.so"
	echo "stderr=[$stderr]"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	# The file, not the descriptor it was loaded through; no rebuild advice.
	[[ "$stderr" != *"/proc/self/fd"* ]]
	[[ "$stderr" != *rebuild* ]]
	[[ "$stderr" == *"$PLUGIN_DIR/undef.so: cannot be loaded: undefined symbol helper_from_libfoo; link"*"-lcjson"*"-Wl,-z,defs"* ]]
	remaining_plugins_work
}

@test "a file that is not a shared object is named by its file, not /proc/self/fd" {
	printf 'not an ELF file\n' >"$PLUGIN_DIR/text.so"
	chmod 644 "$PLUGIN_DIR/text.so"
	one_refusal "plugin $PLUGIN_DIR/text.so: cannot be loaded: *; rebuild it against this system's libraries"
	run --separate-stderr oprun config check
	[[ "$stderr" != *"/proc/self/fd"* ]]
	remaining_plugins_work
}

@test "an operation without size is reported as such, not as a missing type" {
	plugin_source nosize 0 '' >"$TEST_DIR/nosize.c"
	build_plugin nosize
	one_refusal "plugin $PLUGIN_DIR/nosize.so: operation 1 has size 0, less than the * bytes that hold its run function; set .size = sizeof(struct oprun_operation)"
	remaining_plugins_work
}

@test "a plugin descriptor without size is reported as such, not as another ABI" {
	plugin_source nodsize 'sizeof(struct oprun_operation)' '' |
	    sed 's/\.size = sizeof(struct oprun_plugin),/.size = 0,/' >"$TEST_DIR/nodsize.c"
	grep -q '\.size = 0,' "$TEST_DIR/nodsize.c"
	build_plugin nodsize
	one_refusal "plugin $PLUGIN_DIR/nodsize.so: descriptor has size 0*; set .size = sizeof(struct oprun_plugin)"
	remaining_plugins_work
}

@test "two plugins that would both write the directory cache are both refused, naming both files" {
	install -m 644 "$OPRUN_BUILD/test-plugins/docstest.so" "$PLUGIN_DIR/"
	plugin_source writer2 'sizeof(struct oprun_operation)' '' |
	    sed 's/\.type = "test-writer2",/& .flags = OPRUN_OP_DIRECTORY_WRITER,/' \
	    >"$TEST_DIR/writer2.c"
	grep -q 'OPRUN_OP_DIRECTORY_WRITER' "$TEST_DIR/writer2.c"
	build_plugin writer2
	one_refusal "plugins $PLUGIN_DIR/docstest.so and $PLUGIN_DIR/writer2.so: both write the directory cache (operations 'test-dir' and 'test-writer2' are flagged OPRUN_OP_DIRECTORY_WRITER); both refused, remove one"
	remaining_plugins_work
}
