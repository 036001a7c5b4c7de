#!/usr/bin/env bash
# `make demo`: a temporary store and config, the test plugins, a few
# submits (one deduplicated, one partial), one worker pass, then the run
# list and a notification list; then the Intune job itself against the
# fake Graph server: directory-sync, backup-capture, the backup's
# documents and an export.  Leaves nothing behind.
set -euo pipefail
BUILD=${BUILD:-build}
oprun="$PWD/$BUILD/oprun"
dir=$(mktemp -d "${TMPDIR:-/tmp}/oprun-demo.XXXXXX")
fake=
trap '[ -z "$fake" ] || kill "$fake" 2>/dev/null; rm -rf "$dir"' EXIT
mkdir -m 755 "$dir/plugins"
for p in instant items slow kvconfig; do
	install -m 644 "$BUILD/test-plugins/$p.so" "$dir/plugins/"
done
install -m 644 "$BUILD/plugins/directory-sync.so" \
	"$BUILD/plugins/backup-capture.so" "$dir/plugins/"
"$BUILD/fakegraph" --fixture tests/fakegraph/fixture.json \
	--port-file "$dir/port" 2>"$dir/fakegraph.log" &
fake=$!
for i in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
port=$(cat "$dir/port")
printf 'contoso-backup-secret\n' >"$dir/secret"
chmod 600 "$dir/secret"
"$oprun" keygen "$dir/key" >/dev/null
cat > "$dir/oprun.ini" <<INI
[store]
path = store
durability = relaxed
secrets_key_file = key
[runner]
plugin_dir = plugins
[graph]
base_url = http://127.0.0.1:$port
login_url = http://127.0.0.1:$port
[tenant contoso]
description = Contoso (demo, the fake Graph server)
tenant_id = 11111111-1111-1111-1111-111111111111
client_id = cc8deddb-5e43-5299-91ab-b0c218b4b0c2
client_secret_file = secret
[tenant fabrikam]
INI
run() { echo "\$ oprun $*"; "$oprun" -c "$dir/oprun.ini" "$@"; echo; }

run config check
run plugins list
run submit test-items --tenant contoso --initiator alice \
	--payload '{"count": 8, "fail": [3, 6], "comment": "first"}'
# Same identity (key order, spacing and the comment don't count): deduplicated.
run submit test-items --tenant contoso --initiator alice \
	--payload '{"fail":[3,6],"count":8,"comment":"again"}'
run submit test-instant --tenant fabrikam --initiator bob --payload '{}'
run submit test-kv --tenant contoso --initiator alice --payload '{}'
echo "\$ oprun submit test-nope ...   (bad input: exit 2, nothing written)"
"$oprun" -c "$dir/oprun.ini" submit test-nope --tenant contoso \
	--initiator alice --payload '{}' || echo "exit status $?"
echo
run worker --once
run runs
run show 1
run notifications --user alice
run check-store

echo "# The Intune job: cache the directory, then back the tenant up."
run submit directory-sync --tenant contoso --initiator alice --payload '{}'
run submit backup-capture --tenant contoso --initiator alice --payload '{}'
run worker --once
run directory contoso
run backups
backup=$("$oprun" -c "$dir/oprun.ini" runs --type backup-capture --limit 1 \
	--json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
run docs "$backup" --prefix configurationPolicies/
run export "$backup" "$dir/export"
echo "\$ ls $dir/export/configurationPolicies"
ls "$dir/export/configurationPolicies"
