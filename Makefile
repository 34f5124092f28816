# SPDX-License-Identifier: MIT
# Cutover: a plain Makefile (LMDB style). Override CC, W, OPT, XCFLAGS, PREFIX, DESTDIR.

CC      ?= gcc
W       = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	  -Werror=format-security -Werror=implicit -Wvla -Wpointer-arith -Wwrite-strings -Wundef \
	  -Wimplicit-fallthrough -Wno-unused-parameter
OPT     = -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
XCFLAGS =
PREFIX  = /usr/local
DESTDIR =
SYSCONFDIR = /etc
VERSION = 0.1.0

PKGS     = libevent libevent_pthreads libevent_openssl libssl libcrypto lmdb ldns jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -levent -levent_pthreads -llmdb -lldns -ljansson -levent_openssl -lssl -lcrypto)
CFLAGS  = $(W) $(OPT) $(XCFLAGS) -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -MMD -MP
LDLIBS  = $(PKG_LIBS) -lpthread -lm

# Debian packages: to build, and what the tests drive (DNS clients, the reference server, a
# browser for the status page, groff to check the man pages, LMDB's tools to make and dump
# environments that are not ours).
DEB_BUILD = gcc make pkg-config libevent-dev liblmdb-dev libldns-dev libjansson-dev libssl-dev
DEB_TEST  = perl libnet-dns-perl bind9-dnsutils knot-dnsutils nsd chromium groff-base openssl \
	    lmdb-utils
# What `make bench` drives (tests/bench/): the load generator, the reference servers, and the
# Perl the harness is written in.
DEB_BENCH = dnsperf nsd knot gdnsd perl libnet-dns-perl

DAEMON_SRC = $(wildcard server/cutoverd*.c) $(wildcard server/net_*.c) $(wildcard server/prober*.c) \
	     $(wildcard server/http*.c) $(wildcard server/metrics*.c) $(wildcard server/config*.c)
CORE_SRC   = $(filter-out $(DAEMON_SRC),$(wildcard server/*.c))
CTL_SRC    = $(wildcard tools/*.c)
UNIT_SRC   = $(wildcard tests/unit/*.c)

# Objects and programs go under $(B) (empty: in the tree). `make asan` builds in build-asan/ so
# that a sanitizer build never mixes with the normal one.
B          =
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(B)tests/unit/bin/%)

CORE_OBJ   = $(CORE_SRC:%.c=$(B)%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(B)%.o)
CTL_OBJ    = $(CTL_SRC:%.c=$(B)%.o)

# Where `make run` keeps its database and what it listens on.
RUN_DB     = run/db
RUN_LISTEN = 127.0.0.1:5300
RUN_HTTP   = 127.0.0.1:8053

.PHONY: all deps deps-test deps-bench run test unit integration bench install clean asan \
	test-asan test-valgrind programs check

all: deps
	@$(MAKE) --no-print-directory cutoverd cutoverctl

deps:
	@sh tools/install-deps.sh $(DEB_BUILD)

deps-test:
	@sh tools/install-deps.sh $(DEB_BUILD) $(DEB_TEST)

deps-bench:
	@sh tools/install-deps.sh $(DEB_BUILD) $(DEB_BENCH)

# The fuzz targets (make fuzz, make fuzz-merge) and the replay of their corpus in make test.
include tests/fuzz/fuzz.mk

# What `make test` runs beside tests/integration/*.t; `programs` builds it all under $(B).
TEST_BIN = $(UNIT_BIN) $(FUZZ_REPLAY)
programs: $(B)cutoverd $(B)cutoverctl $(TEST_BIN)

$(B)%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)libcutover.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(B)cutoverd: $(DAEMON_OBJ) $(B)libcutover.a
	$(CC) $(CFLAGS) -o $@ $(DAEMON_OBJ) $(B)libcutover.a $(LDLIBS)

$(B)server/metrics.o $(B)server/http_status.o: CFLAGS += -DCUTOVER_VERSION='"$(VERSION)"'

# The status page is kept as HTML and built in as a C string (in the tree: it is flag-free).
$(B)server/http_page.o: server/http_page.inc
server/http_page.inc: server/http_page.html
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

$(B)cutoverctl: $(CTL_OBJ) $(B)libcutover.a
	$(CC) $(CFLAGS) -o $@ $(CTL_OBJ) $(B)libcutover.a $(LDLIBS)

$(B)tests/unit/bin/%: tests/unit/%.c $(B)libcutover.a tests/tap.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(B)libcutover.a $(LDLIBS)

# The pool file reader lives in tools/; its unit test links it beside the core.
$(B)tests/unit/bin/poolfile: tests/unit/poolfile.c $(B)tools/poolfile.o $(B)libcutover.a tests/tap.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -Itools -o $@ $< $(B)tools/poolfile.o $(B)libcutover.a $(LDLIBS)

run: all
	@if [ ! -f $(RUN_DB)/data.mdb ]; then \
		mkdir -p run && \
		for z in zones/*.zone; do ./cutoverctl --db $(RUN_DB) zone import $$z || exit 1; done; \
		for p in zones/*.pools; do [ ! -e $$p ] || ./cutoverctl --db $(RUN_DB) apply $$p || exit 1; done; \
	fi
	./cutoverd --db $(RUN_DB) --listen $(RUN_LISTEN) --http $(RUN_HTTP)

test: deps-test
	@$(MAKE) --no-print-directory programs
	@$(MAKE) --no-print-directory check

# The suite against the programs under $(B), built already (make test, test-asan, test-valgrind).
# A test that runs make itself (ops_install.t) gets none of this make's settings, B included.
check:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL prove -I tests/lib $(TEST_BIN) tests/integration/*.t

# cutoverd beside NSD, Knot and gdnsd on loopback, a few minutes; not part of `make test`.
# Prints a markdown table, writes CSV under bench-results/ (README.md, "Measured figures").
bench: deps-bench
	@$(MAKE) --no-print-directory cutoverd cutoverctl
	perl tests/bench/run

unit: $(UNIT_BIN)
	prove $(UNIT_BIN)

# ASan+UBSan: everything `make test` runs, built in build-asan/ (the tree's build is left alone);
# test-asan runs the whole suite against it. Any report aborts the program, and the tests fail
# on a sanitizer report in cutoverd's stderr (tests/lib/CutoverTest.pm). Leaks are errors;
# tests/sanitizer/lsan.supp lists the libraries' own.
ASAN_B   = build-asan/
# (float-cast-overflow: out-of-range float to integer conversions are undefined, but not in
# GCC's "undefined" set.)
ASAN_OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
	   -fno-sanitize-recover=all
ASAN_RUN = abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1
ASAN_ENV = ASAN_OPTIONS=$(ASAN_RUN) \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	   LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizer/lsan.supp:print_suppressions=0 \
	   CUTOVERD=$(CURDIR)/$(ASAN_B)cutoverd CUTOVERCTL=$(CURDIR)/$(ASAN_B)cutoverctl

asan: deps
	@$(MAKE) --no-print-directory B=$(ASAN_B) OPT="$(ASAN_OPT)" programs

test-asan: deps-test
	@$(MAKE) --no-print-directory asan
	@$(ASAN_ENV) $(MAKE) --no-print-directory B=$(ASAN_B) check

# The unit tests and the integration suite under valgrind (memcheck), with the normal build:
# any error or definite leak fails. Slow (see README); not part of CI. VALGRIND_CTL=1 runs every
# cutoverctl under it too (far slower still: cli.t, pools_cli.t and health_cli.t take 20 min).
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	   --show-leak-kinds=definite --track-fds=no --suppressions=$(CURDIR)/tests/sanitizer/valgrind.supp

test-valgrind: deps-test
	@sh tools/install-deps.sh valgrind
	@$(MAKE) --no-print-directory programs
	prove -I tests/lib --exec '$(VALGRIND)' $(TEST_BIN)
	CT_TEST_WRAPPER='$(VALGRIND)' $(if $(VALGRIND_CTL),CT_TEST_CTL_WRAPPER='$(VALGRIND)') \
		prove -I tests/lib tests/integration/*.t

# Binaries, man pages, the example config (also as SYSCONFDIR/cutover/cutoverd.conf when there
# is none yet), the systemd unit and the bash completion.
MANDIR   = $(PREFIX)/share/man
DOCDIR   = $(PREFIX)/share/doc/cutover
UNITDIR  = $(PREFIX)/lib/systemd/system
COMPDIR  = $(PREFIX)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/cutover
	install -m 0755 cutoverd $(DESTDIR)$(PREFIX)/sbin/cutoverd
	install -m 0755 cutoverctl $(DESTDIR)$(PREFIX)/bin/cutoverctl
	install -m 0644 man/cutoverd.8 man/cutoverctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/cutover-pools.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 dist/cutoverd.conf $(DESTDIR)$(DOCDIR)/cutoverd.conf.example
	[ -e $(DESTDIR)$(SYSCONFDIR)/cutover/cutoverd.conf ] || \
		install -m 0644 dist/cutoverd.conf $(DESTDIR)$(SYSCONFDIR)/cutover/cutoverd.conf
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/cutoverd.service > $(DESTDIR)$(UNITDIR)/cutoverd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cutoverd.service
	install -m 0644 dist/cutoverctl.bash-completion $(DESTDIR)$(COMPDIR)/cutoverctl

clean:
	rm -f server/*.o tools/*.o server/*.d tools/*.d server/*.inc libcutover.a cutoverd cutoverctl
	rm -rf tests/unit/bin build-asan tests/fuzz/bin tests/fuzz/build

-include $(CORE_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) $(CTL_OBJ:.o=.d)
