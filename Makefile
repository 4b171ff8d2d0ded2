# Eagle — a plain GNU Makefile (see README.md).
#   make            build build/eagled and build/eaglectl
#   make check      unit tests, then the end-to-end suite (needs root: starts its own dockerd)
#   make unit       cmocka unit tests only
#   make asan       build with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/
#   make fuzz       build the libFuzzer targets into build-fuzz/ (clang)
#   make install    install the binaries into $(PREFIX)/bin

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

PKGS := libcurl jansson sqlite3 libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Wstrict-prototypes -Wshadow -Werror -Wno-unused-parameter -Wno-format-truncation
OPT ?= -O2 -g
CFLAGS_ALL := -std=gnu11 $(OPT) $(WARN) -Isrc -DH2O_USE_EPOLL=1 -DEAGLE_VERSION='"$(VERSION)"' \
	-D_FORTIFY_SOURCE=2 $(PKG_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS_ALL := $(PKG_LIBS) -lh2o-evloop -lssl -lcrypto -lz -lpthread $(EXTRA_LDFLAGS)

# Modules shared by the daemon, the CLI and the tests.
CORE_SRC := $(wildcard src/core/*.c) $(wildcard src/model/*.c)
DAEMON_SRC := $(wildcard src/engine/*.c) $(wildcard src/store/*.c) $(wildcard src/http/*.c) \
	$(wildcard src/api/*.c) $(wildcard src/controllers/*.c) $(wildcard src/catalog/*.c) $(wildcard src/events/*.c) $(wildcard src/health/*.c) src/daemon.c
CTL_SRC := $(wildcard src/ctl/*.c)

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/openapi.o
CTL_OBJ := $(CTL_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.SECONDEXPANSION:
.PHONY: all check unit e2e asan asan-e2e fuzz fuzz-run install clean format FORCE

all: $(BUILD)/eagled $(BUILD)/eaglectl $(BUILD)/eagle-agent

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

# The version is baked into the files that show it; they are rebuilt whenever it
# changes (a new commit, a dirty tree), not only when they do.
VERSIONED_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(shell grep -rl --include='*.c' EAGLE_VERSION src))
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(VERSIONED_OBJ): $(BUILD)/version.stamp
FORCE:

# The OpenAPI description is compiled into eagled (served as /v1/openapi.json).
$(BUILD)/gen/openapi.c: docs/openapi.json
	@mkdir -p $(dir $@)
	{ echo 'const unsigned char eagle_openapi_json[] = {'; od -An -v -tu1 $< | sed 's/\([0-9][0-9]*\)/\1,/g'; \
	  echo '};'; echo 'const unsigned int eagle_openapi_json_len = sizeof(eagle_openapi_json);'; } > $@

$(BUILD)/gen/openapi.o: $(BUILD)/gen/openapi.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/eagled: $(BUILD)/src/main.o $(DAEMON_OBJ) $(CORE_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# eagle-agent: the node agent (src/agent), with the checker and the engine client.
AGENT_OBJ := $(BUILD)/src/agent/agent.o $(BUILD)/src/health/checker.o $(BUILD)/src/health/wire.o \
	$(BUILD)/src/engine/engine.o
$(BUILD)/eagle-agent: $(AGENT_OBJ) $(CORE_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/eaglectl: $(CTL_OBJ) $(CORE_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# A unit test binary links the core and model modules plus what it names in
# tests/unit/<test>.deps (object paths under src/, one a line, or "all"); a test
# may #include the .c it tests instead.
# "all" in a .deps file links every daemon module.
test_deps = $(if $(filter all,$(1)),$(DAEMON_OBJ),$(addprefix $(BUILD)/,$(1)))
$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ) $$(call test_deps,$$(shell cat tests/unit/%.deps 2>/dev/null))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(filter %.o,$^) $(LDLIBS_ALL) -lcmocka

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

e2e: all
	EAGLE_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q tests/e2e $(PYTEST_ARGS)

check: all unit e2e

asan:
	$(MAKE) BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' all

asan-e2e: asan
	EAGLE_TEST_TIMEOUT_SCALE=2 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	EAGLE_BUILD=$(abspath build-asan) /usr/bin/python3 -m pytest -q tests/e2e $(PYTEST_ARGS)

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
# A target's modules beyond src/core and src/model: FUZZ_EXTRA_<target>.
FUZZ_EXTRA_fuzz_agent := src/health/wire.c src/health/checker.c
build-fuzz/%: tests/fuzz/%.c $(CORE_SRC) $$(FUZZ_EXTRA_$$*)
	@mkdir -p build-fuzz
	clang -std=gnu11 -g -O1 -Isrc -DH2O_USE_EPOLL=1 -DEAGLE_VERSION='"fuzz"' $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(CORE_SRC) $(FUZZ_EXTRA_$*) $(PKG_LIBS) -lpthread

fuzz: $(FUZZ_BIN)

# Each target runs briefly (FUZZ_SECONDS each) from its seed corpus.
FUZZ_SECONDS ?= 30
fuzz-run: fuzz
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p tests/fuzz/corpus-run/$$n; \
		echo "== $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 tests/fuzz/corpus-run/$$n tests/fuzz/corpus/$$n 2>&1 | tail -3; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/eagled $(BUILD)/eaglectl $(BUILD)/eagle-agent $(DESTDIR)$(PREFIX)/bin/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
