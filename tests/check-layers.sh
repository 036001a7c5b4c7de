#!/bin/bash
# check-layers - checks the include rules of docs/DESIGN.md section 9 on
# the source tree (`make check-layers`; `make test` runs it first).
#
# Usage: tests/check-layers.sh [REPO]    (default: this script's checkout)
#
# Prints one line per broken rule, "FILE:LINE: what; the rule", and exits
# 1 if there was any, else prints "check-layers: OK (N files)" and exits 0.
#
# The rules:
#   plugins   A file under plugins/ or tests/plugins/ includes only
#             <oprun/plugin.h>, <cjson/cJSON.h>, C11/POSIX system headers
#             and, with quotes, headers that are files of plugins/ (its
#             own, or the shared plugins/intune/ library); tests/plugins/
#             files may also include headers of tests/plugins/.  Nothing
#             of core/.
#   layers    A module of core/ includes, with quotes, only <oprun/plugin.h>
#             and headers of core/ in its own layer or a layer below it
#             (LAYERS below).  A module that is in no layer is an error
#             too: add it to LAYERS and to docs/DESIGN.md section 9.
#   libraries In core/, only the store's files (store*.c and its internal
#             headers store_*.h, never store.h) include <lmdb.h>, only
#             graph.c <curl/...>, only config.c <ini.h>.
#   abi       include/oprun/plugin.h includes only <stdarg.h>, <stddef.h>
#             and <stdint.h>.
#
# tests/unit, tests/tools, tests/fakegraph and bench/ are not checked:
# they test or measure the internals and may include anything.

set -u

ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2

# The layers of core/, top to bottom (keep in step with docs/DESIGN.md
# section 9).  A module is a file name without .c/.h; shell patterns
# cover families of modules (store*, hostapi*) and those that are coming
# (http*, serve*, schedule*).
LAYER_NAMES=(util "model and store" host runner surfaces)
layer_of() {
	case "$1" in
	cli | cli_* | main | http* | web*)
		echo 4 ;;
	supervisor | serve* | executor* | worker | submit | watchdog | \
	    plugin_watch | handoff | schedule*)
		echo 3 ;;
	hostapi* | loader | graph | runtime | wake)
		echo 2 ;;
	run | identity | config | store* | seal | render)
		echo 1 ;;
	util | text | log | exitcodes)
		echo 0 ;;
	*)
		echo -1 ;;
	esac
}

# C11 and POSIX (Issue 7) headers: what a plugin may take from the system.
SYSTEM_HEADERS=" assert.h complex.h ctype.h errno.h fenv.h float.h
inttypes.h iso646.h limits.h locale.h math.h setjmp.h signal.h stdalign.h
stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h
stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fmtmsg.h fnmatch.h
ftw.h glob.h grp.h iconv.h langinfo.h libgen.h monetary.h mqueue.h
ndbm.h net/if.h netdb.h netinet/in.h netinet/tcp.h nl_types.h poll.h
pthread.h pwd.h regex.h sched.h search.h semaphore.h spawn.h strings.h
sys/ipc.h sys/mman.h sys/msg.h sys/resource.h sys/select.h sys/sem.h
sys/shm.h sys/socket.h sys/stat.h sys/statvfs.h sys/time.h sys/times.h
sys/types.h sys/uio.h sys/un.h sys/utsname.h sys/wait.h syslog.h tar.h
termios.h ulimit.h unistd.h utime.h utmpx.h wordexp.h "
# One space between names and around them, for the " NAME " test below.
SYSTEM_HEADERS=" $(echo "$SYSTEM_HEADERS" | tr -s ' \n' '  ') "

PLUGIN_RULE="a plugin includes only <oprun/plugin.h>, <cjson/cJSON.h>, C11/POSIX headers and headers of plugins/ (docs/DESIGN.md section 9)"
LAYER_RULE="a core module includes only headers of its own layer and the layers below (docs/DESIGN.md section 9)"

problems=0
files=0

problem() {
	echo "$1"
	problems=$((problems + 1))
}

# Prints "LINE<TAB>KIND<TAB>NAME" for every #include of file $1: KIND is
# < or " (or ? for a computed include, NAME then the rest of the line).
includes() {
	grep -n '^[[:space:]]*#[[:space:]]*include' "$1" |
	    sed -E \
	    -e 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*<([^>]*)>.*/\1\t<\t\2/' \
	    -e 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1\t"\t\2/' \
	    -e 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*(.*)$/\1\t?\t\2/'
}

# Where quoted include $2 of file $1 leads, relative to ROOT: the file next
# to the includer, else one of the shared plugins/intune/ library (built
# with -Iplugins/intune), else one under plugins/ (-Iplugins).  Prints
# nothing when it is none of them.
resolve_plugin_include() {
	local dir p
	dir=$(dirname "$1")
	for p in "$dir/$2" "plugins/intune/$2" "plugins/$2"; do
		if [ -f "$p" ]; then
			realpath -m --relative-to="$ROOT" "$p"
			return
		fi
	done
}

check_plugin_file() {
	local f=$1 line kind name to
	while IFS=$'\t' read -r line kind name; do
		case "$kind" in
		'?')
			problem "$f:$line: #include $name is computed and cannot be checked; $PLUGIN_RULE"
			continue ;;
		esac
		case "$name" in
		oprun/plugin.h | cjson/cJSON.h)
			continue ;;
		esac
		if [ "$kind" = '<' ]; then
			[[ "$SYSTEM_HEADERS" == *" $name "* ]] && continue
			problem "$f:$line: <$name> is not a C11/POSIX header; $PLUGIN_RULE"
			continue
		fi
		to=$(resolve_plugin_include "$f" "$name")
		case "$to" in
		plugins/*)
			continue ;;
		tests/plugins/*)
			[[ "$f" == tests/plugins/* ]] && continue ;;
		esac
		if [ -z "$to" ] && [ -f "core/$name" ]; then
			problem "$f:$line: \"$name\" is a header of core/ (the runtime's internals); $PLUGIN_RULE"
		elif [[ "$to" == core/* ]]; then
			problem "$f:$line: \"$name\" is $to, a header of core/ (the runtime's internals); $PLUGIN_RULE"
		elif [ -z "$to" ]; then
			problem "$f:$line: \"$name\" is not a file of plugins/; $PLUGIN_RULE"
		else
			problem "$f:$line: \"$name\" is $to, outside plugins/; $PLUGIN_RULE"
		fi
	done < <(includes "$f")
}

check_core_file() {
	local f=$1 base mod own line kind name tmod to
	base=${f#core/}
	mod=${base%.*}
	own=$(layer_of "$mod")
	if [ "$own" -lt 0 ]; then
		problem "$f:1: module $mod is in no layer; add it to the layer table of tests/check-layers.sh and docs/DESIGN.md section 9"
		return
	fi
	while IFS=$'\t' read -r line kind name; do
		if [ "$kind" = '?' ]; then
			problem "$f:$line: #include $name is computed and cannot be checked; $LAYER_RULE"
			continue
		fi
		if [ "$kind" = '<' ]; then
			case "$name" in
			lmdb.h)
				[[ "$base" == store*.c || "$base" == store_*.h ]] ||
				    problem "$f:$line: <lmdb.h> outside store*.c and store_*.h; only the store knows LMDB, everyone else goes through store.h (docs/DESIGN.md section 9)" ;;
			curl/*)
				[ "$base" = graph.c ] ||
				    problem "$f:$line: <$name> outside graph.c; only the Graph client knows libcurl (docs/DESIGN.md section 9)" ;;
			ini.h)
				[ "$base" = config.c ] ||
				    problem "$f:$line: <ini.h> outside config.c; only config.c knows inih (docs/DESIGN.md section 9)" ;;
			esac
			continue
		fi
		[ "$name" = oprun/plugin.h ] && continue
		if [[ "$name" == */* ]] || [ ! -f "core/$name" ]; then
			problem "$f:$line: \"$name\" is not a header of core/; core includes only core/ headers and <oprun/plugin.h> (docs/DESIGN.md section 9)"
			continue
		fi
		tmod=${name%.h}
		to=$(layer_of "$tmod")
		if [ "$to" -lt 0 ]; then
			problem "$f:$line: \"$name\": module $tmod is in no layer; add it to the layer table of tests/check-layers.sh and docs/DESIGN.md section 9"
		elif [ "$to" -gt "$own" ]; then
			problem "$f:$line: \"$name\" is in the ${LAYER_NAMES[$to]} layer, above $mod (${LAYER_NAMES[$own]}); $LAYER_RULE"
		fi
	done < <(includes "$f")
}

check_abi_header() {
	local f=include/oprun/plugin.h line kind name shown
	while IFS=$'\t' read -r line kind name; do
		case "$kind$name" in
		'<stdarg.h' | '<stddef.h' | '<stdint.h')
			continue ;;
		'<'*)
			shown="<$name>" ;;
		'"'*)
			shown="\"$name\"" ;;
		*)
			shown=$name ;;
		esac
		problem "$f:$line: includes $shown; the ABI header stays self-contained: only <stdarg.h>, <stddef.h> and <stdint.h>, no LMDB, cJSON or curl types (docs/DESIGN.md section 5)"
	done < <(includes "$f")
}

while IFS= read -r f; do
	files=$((files + 1))
	check_plugin_file "$f"
done < <(find plugins tests/plugins -type f \( -name '*.c' -o -name '*.h' \) \
    2>/dev/null | LC_ALL=C sort)

while IFS= read -r f; do
	files=$((files + 1))
	check_core_file "$f"
done < <(find core -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) |
    LC_ALL=C sort)

if [ -f include/oprun/plugin.h ]; then
	files=$((files + 1))
	check_abi_header
fi

if [ "$problems" -gt 0 ]; then
	echo "check-layers: $problems include rule(s) broken (docs/DESIGN.md section 9)"
	exit 1
fi
echo "check-layers: OK ($files files)"
