#!/usr/bin/env bats
# Output errors are errors: a command whose standard output cannot be
# written (a full disk, a closed pipe, a closed stdout) exits 1 with one
# line on stderr saying so, instead of exiting 0 with the output lost.

bats_require_minimum_version 1.5.0
load helpers

# assert_output_error STDERR: status 1 and one line on stderr naming the
# write error.
assert_output_error() {
	echo "status=$status stderr=[$stderr]"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "oprun "*": cannot write to standard output: $1" ]]
}

# to_closed_pipe CMD...: runs CMD with stdout the write end of a pipe
# whose read end is already closed, as `oprun runs | head -c1` is once
# head has exited; SIGPIPE is left at its default for CMD.  Prints CMD's
# exit status, then its stderr.
to_closed_pipe() {
	python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
print(p.returncode)
sys.stdout.write(p.stderr.decode())
' "$@"
}

@test "output to a full disk is an error, with one line on stderr" {
	id=$(submit_id test-instant contoso alice '{}')
	# (bats' `run` captures stdout itself: the shell redirects it.)
	run --separate-stderr bash -c '"$@" >/dev/full' _ "$OPRUN_BUILD/oprun" -c "$CFG" config check
	assert_output_error "No space left on device"
	run --separate-stderr bash -c '"$@" >/dev/full' _ "$OPRUN_BUILD/oprun" -c "$CFG" runs
	assert_output_error "No space left on device"
	run --separate-stderr bash -c '"$@" >/dev/full' _ "$OPRUN_BUILD/oprun" -c "$CFG" show "$id" --json
	assert_output_error "No space left on device"
	run --separate-stderr bash -c '"$@" >/dev/full' _ "$OPRUN_BUILD/oprun" help
	assert_output_error "No space left on device"
	# With somewhere to write, the same commands succeed.
	run oprun runs
	[ "$status" -eq 0 ]
}

@test "output to a closed pipe is an error, not a silent death by SIGPIPE" {
	submit_id test-instant contoso alice '{}' >/dev/null
	run to_closed_pipe "$OPRUN_BUILD/oprun" -c "$CFG" runs
	echo "$output"
	[ "${lines[0]}" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[1]}" = "oprun runs: cannot write to standard output: Broken pipe" ]
	run to_closed_pipe "$OPRUN_BUILD/oprun" -c "$CFG" notifications --user alice --json
	[ "${lines[0]}" -eq 1 ]
	[ "${lines[1]}" = "oprun notifications: cannot write to standard output: Broken pipe" ]
}

@test "a closed stdout is an error, and the store is never written through descriptor 1" {
	run --separate-stderr bash -c '"$@" >&-' _ "$OPRUN_BUILD/oprun" -c "$CFG" \
	    submit test-instant --tenant contoso --initiator alice --payload '{}'
	assert_output_error "Bad file descriptor"
	# The run was created and the store is intact: output did not land in
	# a store file that took descriptor 1.
	[ "$(runs_count)" -eq 1 ]
	assert_store_ok
	run --separate-stderr bash -c '"$@" >&-' _ "$OPRUN_BUILD/oprun" -c "$CFG" runs
	assert_output_error "Bad file descriptor"
	assert_store_ok
}

@test "a command that prints nothing is not troubled by a closed stdout" {
	run --separate-stderr bash -c '"$@" >&-' _ "$OPRUN_BUILD/oprun" -c "$CFG" worker --once
	[ "$status" -eq 0 ]
}
