#!/usr/bin/env bash
# `make demo`: a temporary store and config, the test plugins, a few
# submits (one deduplicated, one partial), one worker pass, then the run
# list and a notification list.  Leaves nothing behind.
set -euo pipefail
BUILD=${BUILD:-build}
oprun="$PWD/$BUILD/oprun"
dir=$(mktemp -d "${TMPDIR:-/tmp}/oprun-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -m 755 "$dir/plugins"
for p in instant items slow kvconfig; do
	install -m 644 "$BUILD/test-plugins/$p.so" "$dir/plugins/"
done
cat > "$dir/oprun.ini" <<INI
[store]
path = store
durability = relaxed
[runner]
plugin_dir = plugins
[tenant contoso]
description = Contoso (demo)
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
