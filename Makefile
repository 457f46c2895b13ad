# tsino: build, test, fuzz, install.  GNU make.
#
#   make                 libtsino.a, ./tsino and the example build/embed
#   make demo            tsino against the local fake server for
#                        DEMO_SECONDS (20), one forced disconnect
#   make test            unit tests, corpus replays, core checks, scenarios
#   make asan            the same built with -fsanitize=address,undefined,
#                        with a subset of the scenarios (ASAN_SCENARIO_RUNS)
#   make fuzz            libFuzzer targets (clang)
#   make fuzz-run        each target for FUZZ_SECONDS seconds
#   make bench           tsino vs the guide's Python and Node clients,
#                        libwebsockets and a copy floor (K, BENCH_RUNS)
#   make install         PREFIX=/usr/local DESTDIR=
#
# CC=gcc and CC=clang both work.  WERROR= turns warnings back into warnings.
# BEARSSL_INC / BEARSSL_LIB: a BearSSL of your own (the directory holding
# bearssl.h, and the directory holding libbearssl.a); the default is
# Debian's libbearssl-dev.

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include

CFLAGS ?= -O2 -g
WERROR ?= -Werror
BEARSSL_INC ?= /usr/include/bearssl
BEARSSL_LIB ?=
ifeq ($(BEARSSL_LIB),)
BEARSSL_LDLIBS = -lbearssl
else
BEARSSL_LDLIBS = $(BEARSSL_LIB)/libbearssl.a
endif

# B is the build directory; `make asan` reuses these rules with another.
B ?= build
TSINO_BIN ?= tsino

TS_CFLAGS = -std=c99 -Wall -Wextra $(WERROR) -D_POSIX_C_SOURCE=200809L \
	-Iinclude -Isrc -I$(BEARSSL_INC) -MMD -MP
LDLIBS = $(BEARSSL_LDLIBS)

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/%)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(B)/replay_%)
SCENARIOS := $(wildcard tests/scenario_*.py)
# `make asan` (TIER=asan) runs the unit tests and corpus replays but only
# these scenarios: the files that drive tsino, less the cases whose point
# is a timing (README, "Tests and fuzzing"); -name leaves a case out.
ASAN_SCENARIO_RUNS = \
	"python3 tests/scenario_stream.py -d_retry_after -e_backoff \
		-client_pings" \
	"python3 tests/scenario_backfill.py -a_drops_repeated -i_make_demo" \
	"python3 tests/scenario_exactly.py" \
	"python3 tests/scenario_rounds.py -retry_after" \
	"python3 tests/scenario_hostile.py" \
	"python3 tests/scenario_net.py -slow_lookup"
ifeq ($(TIER),asan)
SCENARIO_RUNS = $(ASAN_SCENARIO_RUNS)
else
SCENARIO_RUNS = $(foreach s,$(SCENARIOS),"python3 $(s)")
endif
DEMO_SECONDS ?= 20

# The pure byte machines: `make test` checks that their objects call no
# allocator, socket or file function (tests/check_core.sh).
CORE_OBJ := $(foreach m,base error url http ws json round store recent,$(wildcard src/$(m).c))
CORE_OBJ := $(CORE_OBJ:src/%.c=$(B)/%.o)
# The ledger is pure too, but words its log lines with snprintf.
LEDGER_OBJ := $(B)/ledger.o

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -I$(BEARSSL_INC)

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

.PHONY: all test demo asan fuzz fuzz-run bench static install uninstall fmt \
	clean

all: $(B)/libtsino.a $(TSINO_BIN) $(B)/embed

$(B)/%.o: src/%.c
	@mkdir -p $(B)
	$(CC) $(TS_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libtsino.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(TSINO_BIN): $(B)/main.o $(B)/libtsino.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(B)/main.o $(B)/libtsino.a $(LDLIBS)

# The embedding example, built as a user would: tsino.h and the lib.
$(B)/embed: examples/embed.c include/tsino.h $(B)/libtsino.a
	$(CC) $(TS_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libtsino.a $(LDLIBS)

# The library driven with config fields the CLI lacks, for scenarios.
$(B)/drive: tests/drive.c include/tsino.h $(B)/libtsino.a
	$(CC) $(TS_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libtsino.a $(LDLIBS)

# getaddrinfo made slow or given fixed answers, LD_PRELOADed into tsino
# by tests/scenario_net.py.  Built with the flags of everything else, so
# that `make asan` gets one that loads into its tsino.
$(B)/shim_gai.so: tests/shim_gai.c
	@mkdir -p $(B)
	$(CC) $(TS_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

$(B)/test_%: tests/test_%.c tests/test.h $(B)/libtsino.a
	$(CC) $(TS_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libtsino.a $(LDLIBS)

$(B)/replay_%: fuzz/fuzz_%.c fuzz/replay.c $(B)/libtsino.a
	$(CC) $(TS_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay.c \
		$(B)/libtsino.a $(LDLIBS)

# json's SIMD string scan is only compiled where the target has SSE2;
# these builds leave it out, so that the portable path is tested here too.
PORTABLE_BIN := $(B)/test_json_portable $(B)/replay_json_portable

$(B)/test_json_portable: tests/test_json.c tests/test.h src/json.c src/json.h \
		src/base.c src/base.h
	$(CC) $(TS_CFLAGS) $(CFLAGS) -DTS_JSON_NO_SIMD $(LDFLAGS) -o $@ \
		tests/test_json.c src/json.c src/base.c src/error.c

$(B)/replay_json_portable: fuzz/fuzz_json.c fuzz/replay.c src/json.c \
		src/round.c src/base.c src/json.h src/round.h src/base.h
	$(CC) $(TS_CFLAGS) $(CFLAGS) -DTS_JSON_NO_SIMD $(LDFLAGS) -o $@ \
		fuzz/fuzz_json.c fuzz/replay.c src/json.c src/round.c src/base.c \
		src/error.c

test: all $(TEST_BIN) $(REPLAY_BIN) $(PORTABLE_BIN) $(B)/drive \
		$(B)/shim_gai.so
	@TSINO=$(abspath $(TSINO_BIN)) B=$(B) sh tests/run.sh \
		$(TEST_BIN) $(B)/test_json_portable \
		$(foreach f,$(FUZZ_NAMES),"$(B)/replay_$(f) fuzz/corpus/$(f)/*") \
		"$(B)/replay_json_portable fuzz/corpus/json/*" \
		"sh tests/check_core.sh $(CORE_OBJ)" \
		"sh tests/check_core.sh --log $(LEDGER_OBJ)" \
		$(SCENARIO_RUNS)

demo: all
	@TSINO=$(abspath $(TSINO_BIN)) python3 tests/demo.py $(DEMO_SECONDS)

# make bench (bench/bench.py): K rounds per client run, medians of
# BENCH_RUNS runs.  Not part of `make test` or `make all`.
K ?= 200000
BENCH_RUNS ?= 3
BENCH_BIN := $(B)/bench/blaster $(B)/bench/floor $(B)/bench/floor_tls \
	$(B)/bench/lws_client

bench: $(TSINO_BIN) $(BENCH_BIN)
	@TSINO=$(abspath $(TSINO_BIN)) B=$(B) K=$(K) BENCH_RUNS=$(BENCH_RUNS) \
		python3 bench/bench.py

$(B)/bench/%: bench/%.c $(B)/libtsino.a
	@mkdir -p $(B)/bench
	$(CC) $(TS_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libtsino.a $(LDLIBS)

# libwebsockets' headers are not C99 + POSIX clean: its own flags.
$(B)/bench/lws_client: bench/lws_client.c
	@mkdir -p $(B)/bench
	$(CC) -Wall -Wextra $(WERROR) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$$(pkg-config --cflags --libs libwebsockets)

# Sanitized code is slower: the tests' timed waits are 3 times as long
# (TSINO_TEST_SLOW, see tests/scen.py) unless the caller set the factor.
asan:
	TSINO_TEST_SLOW=$(or $(TSINO_TEST_SLOW),3) $(MAKE) B=build/asan \
		TSINO_BIN=build/asan/tsino TIER=asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" test

fuzz: $(FUZZ_NAMES:%=build/fuzz/fuzz_%)

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC) $(wildcard src/*.h) include/tsino.h
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz-run: fuzz
	@for f in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/work_$$f build/fuzz/crash_$$f; \
		echo "== fuzz_$$f for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=build/fuzz/crash_$$f/ \
			build/fuzz/work_$$f fuzz/corpus/$$f 2>build/fuzz/log_$$f \
			|| { tail -n 60 build/fuzz/log_$$f; exit 1; }; \
		grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' \
			build/fuzz/log_$$f; \
	done

# A fully static, stripped tsino with musl (Debian's musl-tools).  musl
# gets only BearSSL's headers, not all of /usr/include.  Debian's
# libbearssl.a is built with _FORTIFY_SOURCE: src/musl/fortify.c gives it
# the three checks musl lacks.  BEARSSL_LIB= a BearSSL built for musl.
MUSL_CC ?= musl-gcc
ifeq ($(BEARSSL_LIB),)
BEARSSL_A = $(shell $(CC) -print-file-name=libbearssl.a)
else
BEARSSL_A = $(BEARSSL_LIB)/libbearssl.a
endif
STATIC_FLAGS = -static -Os -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc \
	-fno-asynchronous-unwind-tables \
	-I$(BEARSSL_INC) -ffunction-sections -fdata-sections -Wl,--gc-sections -s

static: build/static/tsino
	@ls -l build/static/tsino

build/static/tsino: $(LIB_SRC) src/main.c src/musl/fortify.c \
		$(wildcard src/*.h) include/tsino.h
	@mkdir -p build/static
	$(MUSL_CC) $(STATIC_FLAGS) -o $@ $(LIB_SRC) src/main.c \
		src/musl/fortify.c $(BEARSSL_A)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)
	install -m 755 $(TSINO_BIN) $(DESTDIR)$(BINDIR)/tsino
	install -m 644 $(B)/libtsino.a $(DESTDIR)$(LIBDIR)/libtsino.a
	install -m 644 include/tsino.h $(DESTDIR)$(INCDIR)/tsino.h

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tsino $(DESTDIR)$(LIBDIR)/libtsino.a \
		$(DESTDIR)$(INCDIR)/tsino.h

fmt:
	clang-format -i include/*.h src/*.c src/musl/*.c $(wildcard src/*.h) \
		tests/*.c \
		tests/*.h fuzz/*.c

clean:
	rm -rf build tsino

-include $(wildcard $(B)/*.d)
