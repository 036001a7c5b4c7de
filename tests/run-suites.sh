#!/usr/bin/env bash
# Runs every suite of each build directory given (unit tests with cmocka,
# end-to-end tests with bats), prints each suite's result and ends with
# one line "N passed, N failed" summing them all.  Exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
logdir=$(mktemp -d "${TMPDIR:-/tmp}/oprun-tests.XXXXXX")

# Counts TAP lines of one suite's output; a suite that crashed or printed
# no result counts as one failure.
count() {
	local name=$1 out=$2 rc=$3 ok nok
	ok=$(grep -c '^ok ' "$out")
	nok=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	printf '%-40s %4d passed, %d failed\n' "$name" "$ok" "$nok"
	if [ "$nok" -ne 0 ]; then
		grep -v '^ok ' "$out" | tail -n 40 | sed 's/^/    /'
	fi
}

for build in "$@"; do
	label=$(basename "$build")
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		out="$logdir/$label-$(basename "$t").tap"
		CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" >"$out" 2>&1
		count "$label unit $(basename "$t")" "$out" $?
	done
	for b in tests/e2e/*.bats; do
		[ -f "$b" ] || continue
		out="$logdir/$label-$(basename "$b").tap"
		OPRUN_BUILD="$PWD/$build" timeout 900 bats --tap "$b" >"$out" 2>&1
		count "$label e2e $(basename "$b" .bats)" "$out" $?
	done
done
rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
