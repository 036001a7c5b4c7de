#!/usr/bin/env bats
# Plugins installed while `oprun serve` runs: serve watches plugin_dir
# and reloads (as on SIGHUP) shortly after the last change, and an
# executor that claims a run of a type it does not know rescans the
# directory before failing the run.  A run that no plugin can take is
# failed with a reason that says what to do, and the serve log says so;
# a broken plugin file is logged and serve keeps going.
#
# Each test runs its own serve (see serve_helpers.bash) on its own temp
# dir; every wait is bounded.

bats_require_minimum_version 1.5.0
load helpers
load serve_helpers

setup() {
	serve_setup
}

teardown() {
	serve_teardown
}

# count_log TEXT: how many lines of the serve log contain TEXT.
count_log() {
	grep -cF -- "$1" "$SERVE_LOG" || true
}

# submitter_config DIR: writes $SUB_CFG, a config on the same store as
# $CFG whose plugin directory is DIR (relative to $TEST_DIR), so a run
# can be submitted of a type serve's plugin directory lacks.
submitter_config() {
	SUB_CFG="$TEST_DIR/submitter.ini"
	{
		printf '[store]\npath = store\ndurability = relaxed\n'
		printf '[runner]\nplugin_dir = %s\n' "$1"
		printf '[tenant contoso]\n[tenant fabrikam]\n'
	} >"$SUB_CFG"
}

@test "a plugin installed while serve runs is reloaded by itself and its runs succeed" {
	use_plugins instant
	serve_config 'executors = 2'
	start_serve

	install -m 644 "$OPRUN_BUILD/test-plugins/items.so" "$PLUGIN_DIR/"
	wait_log "plugins reloaded:" 50
	id=$(submit_cli test-items contoso '{"count":3}')
	run oprun wait "$id" --timeout 10 --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get state)" = succeeded ]
	[ "$(printf '%s' "$output" | json_get summary.succeeded)" -eq 3 ]
	alive "$SERVE_PID"
}

@test "a run submitted right after its plugin is copied in succeeds" {
	use_plugins instant
	serve_config 'executors = 2'
	start_serve

	# No wait between the copy and the submit: whichever comes first,
	# the reload or an executor's rescan, the run must not fail.
	cp "$OPRUN_BUILD/test-plugins/items.so" "$PLUGIN_DIR/"
	id=$(submit_cli test-items contoso '{"count":2}')
	run oprun wait "$id" --timeout 10 --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get state)" = succeeded ]
	[ "$(printf '%s' "$output" | json_get summary.succeeded)" -eq 2 ]
}

@test "an executor that has not reloaded rescans the plugin directory before failing a run" {
	use_plugins instant
	serve_config 'executors = 1'
	start_serve
	old=$(executors_of "$SERVE_PID")
	# A broken serve config makes serve's own reload refuse, so the
	# executor started before the install is the one that claims the run.
	cp "$CFG" "$TEST_DIR/good.ini"
	echo 'no_such_key = 1' >>"$CFG"
	install -m 644 "$OPRUN_BUILD/test-plugins/items.so" "$PLUGIN_DIR/"
	wait_log "reload refused" 50
	[ "$(executors_of "$SERVE_PID")" = "$old" ]

	id=$("$OPRUN_BUILD/oprun" -c "$TEST_DIR/good.ini" submit test-items \
	    --tenant contoso --initiator alice --payload '{"count":2}' --json |
	    json_get id)
	run "$OPRUN_BUILD/oprun" -c "$TEST_DIR/good.ini" wait "$id" \
	    --timeout 10 --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | json_get state)" = succeeded ]
	[ "$(CFG=$TEST_DIR/good.ini running_actor_pid "$id")" = "$old" ]
	grep -F "plugin items 1.0.0 loaded from $PLUGIN_DIR/items.so" \
	    "$SERVE_LOG" | grep -qF "run=$id"
}

@test "the reload log line names each plugin and its version, once for a burst of installs" {
	use_plugins instant
	serve_config 'executors = 2'
	start_serve

	# One install of three files: a burst that does not depend on how
	# fast a loaded machine starts processes.
	install -m 644 "$OPRUN_BUILD/test-plugins/items.so" \
	    "$OPRUN_BUILD/test-plugins/slow.so" \
	    "$OPRUN_BUILD/test-plugins/kvconfig.so" "$PLUGIN_DIR/"
	wait_log "plugins reloaded:" 50
	# A quiet second: the burst caused one reload, not three.
	sleep 1
	[ "$(count_log "plugins reloaded:")" -eq 1 ]
	grep -qF 'msg="plugins reloaded: instant 1.0.0, items 1.0.0, kvconfig 1.0.0, slow 1.0.0 (4 plugins)"' "$SERVE_LOG"

	# Removing one is a change too.
	rm "$PLUGIN_DIR/slow.so"
	wait_log "(3 plugins)" 50
	grep -qF 'msg="plugins reloaded: instant 1.0.0, items 1.0.0, kvconfig 1.0.0 (3 plugins)"' "$SERVE_LOG"
}

@test "files not named *.so in the plugin directory cause no reload" {
	use_plugins instant
	serve_config 'executors = 2'
	start_serve
	old=$(executors_of "$SERVE_PID" | sort)

	echo notes >"$PLUGIN_DIR/README"
	cp "$OPRUN_BUILD/test-plugins/items.so" "$PLUGIN_DIR/items.so.part"
	sleep 1
	[ "$(count_log "plugins reloaded:")" -eq 0 ]
	[ "$(executors_of "$SERVE_PID" | sort)" = "$old" ]
	# Renamed into place, it is picked up.
	mv "$PLUGIN_DIR/items.so.part" "$PLUGIN_DIR/items.so"
	wait_log "plugins reloaded: instant 1.0.0, items 1.0.0 (2 plugins)" 50
}

@test "a run of a type no plugin provides fails with a reason that says what to do, and serve logs it" {
	use_plugins instant
	serve_config 'executors = 2'
	start_serve
	# The submitter's plugin directory has items.so; serve's never does.
	mkdir -m 755 "$TEST_DIR/other-plugins"
	install -m 644 "$OPRUN_BUILD/test-plugins/items.so" "$TEST_DIR/other-plugins/"
	submitter_config other-plugins

	id=$("$OPRUN_BUILD/oprun" -c "$SUB_CFG" submit test-items \
	    --tenant contoso --initiator alice --payload '{"count":2}' --json |
	    json_get id)
	wait_terminal "$id" 100
	[ "$(run_field "$id" state)" = failed ]
	[ "$(run_field "$id" reason)" = "no plugin in $PLUGIN_DIR provides operation 'test-items'; install the plugin that provides it there and submit again (oprun plugins list shows what is loaded)" ]
	grep -F "run=$id type=test-items" "$SERVE_LOG" |
	    grep -qF "no plugin in $PLUGIN_DIR provides operation 'test-items'"
	# Its initiator is told why.
	run --separate-stderr oprun notifications --user alice --json
	[[ "$(printf '%s' "$output" | json_get notifications.0.text)" == *"install the plugin that provides it there"* ]]
	# Other runs are unaffected.
	id2=$(submit_cli test-instant contoso '{}')
	run oprun wait "$id2" --timeout 10
	[ "$status" -eq 0 ]
	assert_store_ok
}

@test "a broken plugin file dropped in is logged with its reason and serve keeps running runs" {
	use_plugins instant
	serve_config 'executors = 2'
	start_serve

	printf 'not a shared object\n' >"$PLUGIN_DIR/broken.so"
	chmod 644 "$PLUGIN_DIR/broken.so"
	wait_log "plugin $PLUGIN_DIR/broken.so: cannot be loaded" 50
	wait_log "plugins reloaded: instant 1.0.0 (1 plugin)" 50
	install -m 644 "$OPRUN_BUILD/test-plugins/badabi.so" "$PLUGIN_DIR/"
	wait_log "plugin $PLUGIN_DIR/badabi.so: ABI 2.0, runner provides" 50
	alive "$SERVE_PID"
	wait_executors 2

	id=$(submit_cli test-instant contoso '{}')
	run oprun wait "$id" --timeout 10
	[ "$status" -eq 0 ]
	# A good plugin added next to them still loads.
	install -m 644 "$OPRUN_BUILD/test-plugins/items.so" "$PLUGIN_DIR/"
	wait_log "plugins reloaded: instant 1.0.0, items 1.0.0 (2 plugins)" 50
	id=$(submit_cli test-items contoso '{"count":1}')
	run oprun wait "$id" --timeout 10
	[ "$status" -eq 0 ]
	alive "$SERVE_PID"
}

@test "reloads do not pile up open descriptors in serve" {
	use_plugins instant items slow
	serve_config 'executors = 2'
	start_serve
	kill -HUP "$SERVE_PID"
	wait_log "plugins reloaded:" 50
	wait_executors 2
	before=$(ls "/proc/$SERVE_PID/fd" | wc -l)

	for i in 2 3 4 5 6; do
		kill -HUP "$SERVE_PID"
		for j in $(seq 50); do
			[ "$(count_log "plugins reloaded:")" -eq "$i" ] && break
			sleep 0.1
		done
		[ "$(count_log "plugins reloaded:")" -eq "$i" ]
		wait_executors 2
	done
	# Retired executors' control sockets close as they are reaped.
	for j in $(seq 50); do
		[ "$(ls "/proc/$SERVE_PID/fd" | wc -l)" -le "$before" ] && break
		sleep 0.1
	done
	after=$(ls "/proc/$SERVE_PID/fd" | wc -l)
	echo "descriptors: $before before, $after after 5 reloads" >&2
	[ "$after" -le "$before" ]
}
