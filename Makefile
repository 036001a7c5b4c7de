# oprun - a boring Makefile.  `make` builds build/oprun and the plugins;
# `make test` runs every suite (plain and sanitized) and ends with one
# "N passed, N failed" line.  See README.md for the rest.

PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
CC	?= cc
SAN	?=

PKGS	 = lmdb libcjson inih libcrypto libcurl
DEBS	 = gcc clang make pkg-config python3 curl liblmdb-dev libcjson-dev \
	   libinih-dev libssl-dev libcurl4-openssl-dev libcmocka-dev \
	   libmicrohttpd-dev bats

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes
OPT	?= -O2 -g
CFLAGS	+= $(OPT) -std=c11 -pthread $(WARN) -Iinclude -Icore $(PKG_CFLAGS) $(SAN)
LDFLAGS	+= $(SAN)
LDLIBS	 = $(PKG_LIBS) -ldl -lm -pthread
# Plugins build the way a third-party author builds them against the
# installed kit: the public header (-Iinclude) and cJSON, never core/ (no
# -Icore) and no LMDB, curl or inih flags; linked -Wl,-z,defs so a
# library left out is a build error, exporting only the entry symbol
# (docs/DESIGN.md section 5).  A plugin that needs more (plugins/intune/)
# gets a rule of its own built from these three.
PLUGIN_CFLAGS	 = $(OPT) -std=c11 $(WARN) -Iinclude \
		   $(shell pkg-config --cflags libcjson 2>/dev/null) $(SAN) \
		   -fPIC -fvisibility=hidden
PLUGIN_LDFLAGS	 = -shared -Wl,-z,defs $(SAN)
PLUGIN_LIBS	:= $(shell pkg-config --libs libcjson 2>/dev/null)
# The plugin ABI version, from the header, for the installed .pc file.
ABI_MAJOR := $(shell sed -n 's/^.define OPRUN_ABI_MAJOR \([0-9]*\)$$/\1/p' \
	include/oprun/plugin.h)
ABI_MINOR := $(shell sed -n 's/^.define OPRUN_ABI_MINOR \([0-9]*\)$$/\1/p' \
	include/oprun/plugin.h)

CORE_SRC = core/util.c core/text.c core/log.c core/run.c core/identity.c \
	   core/store_docs.c core/store_dir.c core/seal.c core/hostapi_store.c \
	   core/config.c core/store.c core/loader.c core/hostapi.c \
	   core/runtime.c core/submit.c core/worker.c core/render.c \
	   core/wake.c core/graph.c core/handoff.c core/watchdog.c \
	   core/plugin_watch.c core/schedule.c core/serve_schedules.c \
	   core/supervisor.c core/cli.c core/cli_docs.c
CORE_OBJ = $(CORE_SRC:core/%.c=$(BUILD)/obj/%.o)

TEST_PLUGINS = instant items slow crash badabi nosym kvconfig record graphtest \
	       docstest \
	       rawtext
TEST_PLUGIN_SO = $(TEST_PLUGINS:%=$(BUILD)/test-plugins/%.so)

UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_TESTS:%=$(BUILD)/tests/%)

.PHONY: all deps test test-asan test-suites asan-build clang-build bench demo install \
	format-check check-layers clean

# Bundled plugins (installed); the Intune ones join this list.
PLUGINS	 = example
# The Intune plugins: plugins/NAME/*.c linked with the shared Intune
# library, plugins/intune/*.c (their rule follows the plugin rule).
INTUNE_PLUGINS = directory-sync backup-capture
PLUGINS	+= $(INTUNE_PLUGINS)
PLUGIN_SO = $(PLUGINS:%=$(BUILD)/plugins/%.so)

all: $(BUILD)/oprun $(PLUGIN_SO) $(TEST_PLUGIN_SO)

$(BUILD)/obj/%.o: core/%.c core/*.h include/oprun/plugin.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/oprun: $(CORE_OBJ) $(BUILD)/obj/main.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A bundled plugin: every .c file of plugins/NAME/ into NAME.so.
$(BUILD)/plugins/%.so: plugins/%/*.c include/oprun/plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ plugins/$*/*.c \
	  $(PLUGIN_LIBS)

# An Intune plugin: its own sources and the library's (any Intune
# source changed rebuilds them all: simpler than a rule per plugin).
INTUNE_LIB = $(wildcard plugins/intune/*.c)
INTUNE_SRC = $(foreach p,$(INTUNE_PLUGINS),$(wildcard plugins/$(p)/*.c)) \
	     $(INTUNE_LIB) $(wildcard plugins/intune/*.h)
$(INTUNE_PLUGINS:%=$(BUILD)/plugins/%.so): $(BUILD)/plugins/%.so: \
	  $(INTUNE_SRC) include/oprun/plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ \
	  $(wildcard plugins/$*/*.c) $(INTUNE_LIB) $(PLUGIN_LIBS)

# A test plugin: tests/plugins/NAME.c into NAME.so, built like the others.
$(BUILD)/test-plugins/%.so: tests/plugins/%.c include/oprun/plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $< $(PLUGIN_LIBS)

# Helpers shared by the unit tests (temp dirs, files, test plugins).
TESTUTIL = $(wildcard tests/unit/testutil.c)

$(BUILD)/tests/%: tests/unit/%.c $(TESTUTIL) $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(TESTUTIL) $(CORE_OBJ) \
	  $(LDFLAGS) $(LDLIBS) -lcmocka

# The Intune library's test links the library (a plugin's code), not core.
$(BUILD)/tests/test_intune: tests/unit/test_intune.c $(INTUNE_LIB) \
	  $(wildcard plugins/intune/*.h) include/oprun/plugin.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(INTUNE_LIB) $(LDFLAGS) -lcjson -lcmocka

# The comparison and mapping tests link the library the same way.
$(BUILD)/tests/test_compare: tests/unit/test_compare.c $(INTUNE_LIB) \
	  $(wildcard plugins/intune/*.h) include/oprun/plugin.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(INTUNE_LIB) $(LDFLAGS) -lcjson -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDFLAGS) $(LDLIBS)

# The fake Microsoft Graph server: a test fixture, never installed.
FAKEGRAPH_SRC = $(wildcard tests/fakegraph/*.c)
$(BUILD)/fakegraph: $(FAKEGRAPH_SRC) $(wildcard tests/fakegraph/*.h) \
	  $(BUILD)/obj/util.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags libmicrohttpd) -o $@ \
	  $(FAKEGRAPH_SRC) $(BUILD)/obj/util.o $(LDFLAGS) \
	  $(shell pkg-config --libs libmicrohttpd) -lcjson -lcrypto

$(BUILD)/bench: bench/*.c bench/*.h $(CORE_OBJ)
	$(CC) $(CFLAGS) -o $@ bench/*.c $(CORE_OBJ) $(LDFLAGS) $(LDLIBS)

# Installs the Debian packages the build and tests need (as root), or
# prints the one command to run.
deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else echo "deps: missing:$$missing; run: sudo apt-get install -y$$missing"; \
	  exit 1; fi

test-suites: all $(UNIT_BIN) $(BUILD)/tools/submit_storm \
	  $(BUILD)/tools/hold_writer $(BUILD)/fakegraph

# The include rules first: a layer violation fails the run before any
# build (tests/check-layers.sh prints each as FILE:LINE: rule).
test: deps check-layers
	@$(MAKE) --no-print-directory test-suites >/dev/null
	@$(MAKE) --no-print-directory asan-build >/dev/null
	@$(MAKE) --no-print-directory clang-build >/dev/null
	@tests/run-suites.sh $(BUILD) $(BUILD)/asan

test-asan: deps asan-build
	@tests/run-suites.sh $(BUILD)/asan

ASAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
asan-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT="-O1 -g" \
	  SAN="$(ASAN)" test-suites

# Everything must also compile warning-free with clang.
clang-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/clang CC=clang test-suites

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench $(BUILD)/fakegraph \
	  >/dev/null
	$(BUILD)/bench --oprun $(BUILD)/oprun --plugins $(BUILD)/test-plugins \
	  --bundled $(BUILD)/plugins \
	  --fakegraph $(BUILD)/fakegraph tests/fakegraph/fixture.json

demo: deps
	@$(MAKE) --no-print-directory all $(BUILD)/fakegraph >/dev/null
	@BUILD=$(BUILD) ./conf/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/oprun \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/etc/oprun \
	  $(DESTDIR)$(PREFIX)/lib/oprun/plugins
	install -m 755 $(BUILD)/oprun $(DESTDIR)$(PREFIX)/bin/oprun
	install -m 644 include/oprun/plugin.h \
	  $(DESTDIR)$(PREFIX)/include/oprun/plugin.h
	@test -n "$(ABI_MAJOR)" && test -n "$(ABI_MINOR)" || { echo \
	  "install: no OPRUN_ABI_MAJOR/MINOR in include/oprun/plugin.h"; exit 1; }
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@ABI_MAJOR@|$(ABI_MAJOR)|g' \
	  -e 's|@ABI_VERSION@|$(ABI_MAJOR).$(ABI_MINOR)|g' \
	  conf/oprun-plugin.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/oprun-plugin.pc
	install -m 644 conf/oprun.ini $(DESTDIR)$(PREFIX)/etc/oprun/oprun.ini
	install -m 644 $(PLUGIN_SO) $(DESTDIR)$(PREFIX)/lib/oprun/plugins/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed -e 's|/usr/local|$(PREFIX)|g' conf/oprun.service \
	  > $(DESTDIR)$(PREFIX)/lib/systemd/system/oprun.service

# Checks FORMAT_FILES against .clang-format (clang-format 14) and changes
# nothing; not part of `make test`.  The default lists the files that
# conform today: add a file once `clang-format --dry-run FILE` is quiet
# on it.  `make format-check FORMAT_FILES="core/*.c core/*.h"` shows the
# rest.
FORMAT_FILES ?= core/main.c core/runtime.c core/exitcodes.h core/schedule.c \
	core/serve_schedules.c core/store_docs.c core/store_dir.c \
	core/store_internal.h core/seal.c core/seal.h core/hostapi_store.c \
	core/cli_docs.c core/cli_internal.h bench/capture.c bench/bench.h \
	tests/plugins/docstest.c
# The Intune library and plugins conform (a FORMAT_FILES given on the
# command line replaces the whole list).
FORMAT_FILES += $(wildcard plugins/intune/*.[ch]) \
		$(foreach p,$(INTUNE_PLUGINS),$(wildcard plugins/$(p)/*.[ch]))
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# The include rules of docs/DESIGN.md section 9: plugins include only the
# ABI header, cJSON, libc/POSIX and plugins/ headers; a core module never
# includes a header of a layer above its own.  Part of `make test`.
check-layers:
	@tests/check-layers.sh

clean:
	rm -rf $(BUILD)
