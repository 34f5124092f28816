# SPDX-License-Identifier: MIT
# The fuzz targets (tests/fuzz/<target>.c), included by the Makefile.
#  make fuzz FUZZ_SECONDS=N  builds them with clang's libFuzzer, ASan and UBSan in $(FUZZ_B)
#                            (never the tree's gcc objects) and runs each for N seconds on its
#                            committed corpus (with tests/fuzz/<target>.dict when there is
#                            one); new inputs go to $(FUZZ_B)corpus/<target>.
#  make fuzz-merge           adds the inputs that reach new edges to tests/fuzz/corpus/ (edges
#                            only, not hit counts: it keeps the committed corpus small).
#  make test                 replays every committed input with the targets built by $(CC)
#                            (tests/fuzz/replay.c): no libFuzzer needed.

DEB_FUZZ     = clang libclang-rt-14-dev
FUZZ_TARGETS = query zonefile poolfile config edns
FUZZ_SECONDS = 60
FUZZ_CC      = clang
FUZZ_B       = tests/fuzz/build/
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  = $(W) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -D_GNU_SOURCE -Iinclude -Itools -Iserver \
	       $(PKG_CFLAGS) -MMD -MP
FUZZ_FLAGS   = -rss_limit_mb=2048 -print_final_stats=1
# Scratch files (inputs written for the file parsers, the fixture database) in memory: LMDB
# commits and file writes on disk made some targets 6 times slower.
FUZZ_TMPDIR  = /dev/shm
# What the targets link beside the core: the pool file reader and the daemon's config parser.
FUZZ_EXTRA   = tools/poolfile server/config server/net_listen
FUZZ_LIBOBJ  = $(CORE_SRC:%.c=$(FUZZ_B)%.o) $(FUZZ_EXTRA:%=$(FUZZ_B)%.o)
FUZZ_BIN     = $(FUZZ_TARGETS:%=$(FUZZ_B)fuzz-%)
FUZZ_REPLAY  = $(FUZZ_TARGETS:%=$(B)tests/fuzz/bin/replay-%)

.PHONY: deps-fuzz fuzz fuzz-build fuzz-merge

deps-fuzz:
	@sh tools/install-deps.sh $(DEB_BUILD) $(DEB_FUZZ)

$(FUZZ_B)%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)server/http_page.o: server/http_page.inc

$(FUZZ_B)libfuzz.a: $(FUZZ_LIBOBJ)
	$(AR) rcs $@ $^

$(FUZZ_B)fuzz-%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_B)libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)libfuzz.a $(LDLIBS)

fuzz-build: deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_B)corpus/$$t || exit 1; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		dict=; [ ! -f tests/fuzz/$$t.dict ] || dict=-dict=tests/fuzz/$$t.dict; \
		TMPDIR=$(FUZZ_TMPDIR) $(FUZZ_B)fuzz-$$t $(FUZZ_FLAGS) $$dict \
			-max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(FUZZ_B)$$t- $(FUZZ_B)corpus/$$t tests/fuzz/corpus/$$t \
			|| exit 1; \
	done

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_B)corpus/$$t || exit 1; \
		TMPDIR=$(FUZZ_TMPDIR) $(FUZZ_B)fuzz-$$t $(FUZZ_FLAGS) -merge=1 -use_counters=0 \
			tests/fuzz/corpus/$$t \
			$(FUZZ_B)corpus/$$t \
			|| exit 1; \
	done

# The replay programs: each target with tests/fuzz/replay.c as its main(), built like the tests.
FUZZ_REPLAY_LIB = $(FUZZ_EXTRA:%=$(B)%.o) $(B)libcutover.a

$(B)tests/fuzz/bin/replay-%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(FUZZ_REPLAY_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itools -Iserver -DFUZZ_TARGET='"$*"' -o $@ $< tests/fuzz/replay.c \
		$(FUZZ_REPLAY_LIB) $(LDLIBS)

-include $(FUZZ_LIBOBJ:.o=.d) $(FUZZ_BIN:=.d)
