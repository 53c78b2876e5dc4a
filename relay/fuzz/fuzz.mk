# relay/fuzz/fuzz.mk - fuzz targets (included by relay/Makefile).
#
#   make fuzz-replay    replay every corpus (fuzz/corpus/<target>/: seeds and
#                       regression inputs) through gcc + ASan/UBSan builds of
#                       the targets; part of `make check`, takes seconds
#   make fuzz           libFuzzer (clang) builds, then run each target for
#                       FUZZ_SECONDS (default 60) in turn, under nice
#   make fuzz-build     only build the libFuzzer binaries
#
#   FUZZ_TARGETS="fuzz_event fuzz_s3_key"   a subset (default: all)
#   FUZZ_SECONDS=600                        longer runs
#   FUZZ_SEED=1                             libFuzzer's seed (default: a new
#                                           one each run); the test command
#                                           fixes it so that a run repeats
#
# New inputs libFuzzer finds go to build/fuzz-work/<target>/ (not the
# committed corpus); crashes to build/fuzz-artifacts/.  A crash input that
# is fixed belongs in fuzz/corpus/<target>/regress-<what>, with a unit test.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SEED    ?=
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS    := $(wildcard fuzz/fuzz_*.c)
FUZZ_ALL     := $(FUZZ_SRCS:fuzz/%.c=%)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FZ_HDRS      := $(HDRS) fuzz/fz.h
# http_do answers from the input; the Streams reader also gets a virtual clock
FZ_WRAP       = -Wl,--wrap=http_do
FZ_WRAP_fuzz_ddb_streams = -Wl,--wrap=poll,--wrap=relay_now_ms

# libFuzzer builds: clang, fuzzer-no-link coverage in every module
FZ_CL_FLAGS   = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 $(PKG_CFLAGS) \
	-fsanitize=fuzzer-no-link $(FUZZ_SAN)
FZ_CL_OBJS   := $(LIB_OBJS:build/%=build/fuzz-cl/%) build/fuzz-cl/fz_util.o
# replay builds: $(CC) (gcc) and fz_driver.c's main
FZ_GCC_FLAGS  = $(ALL_CFLAGS) -O1 $(FUZZ_SAN)
FZ_GCC_OBJS  := $(LIB_OBJS:build/%=build/fuzz-gcc/%) build/fuzz-gcc/fz_util.o

.PHONY: fuzz fuzz-build fuzz-replay
.SECONDARY: $(FZ_CL_OBJS) $(FZ_GCC_OBJS)

build/fuzz-cl build/fuzz-gcc fuzz/bin:
	mkdir -p $@

build/fuzz-cl/%.o: src/%.c $(HDRS) | build/fuzz-cl
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(FUZZ_CC) $(FZ_CL_FLAGS) -c -o $@ $<

build/fuzz-cl/fz_util.o: fuzz/fz_util.c $(FZ_HDRS) | build/fuzz-cl
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(FUZZ_CC) -Isrc $(FZ_CL_FLAGS) -c -o $@ $<

build/fuzz-gcc/%.o: src/%.c $(HDRS) | build/fuzz-gcc
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) $(FZ_GCC_FLAGS) -c -o $@ $<

build/fuzz-gcc/fz_%.o: fuzz/fz_%.c $(FZ_HDRS) | build/fuzz-gcc
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) -Isrc $(FZ_GCC_FLAGS) -c -o $@ $<

fuzz/bin/fuzz_%: fuzz/fuzz_%.c $(FZ_CL_OBJS) $(FZ_HDRS) | fuzz/bin
	@$(if $(Q),echo "  CLANGLD $<")
	$(Q)$(FUZZ_CC) -Isrc $(FZ_CL_FLAGS) -fsanitize=fuzzer -o $@ $< $(FZ_CL_OBJS) \
		$(FZ_WRAP) $(FZ_WRAP_fuzz_$*) $(LIBS) $(TEST_LIBS)

fuzz/bin/replay_%: fuzz/fuzz_%.c $(FZ_GCC_OBJS) build/fuzz-gcc/fz_driver.o $(FZ_HDRS) | fuzz/bin
	@$(if $(Q),echo "  CCLD    $< (replay)")
	$(Q)$(CC) -Isrc $(FZ_GCC_FLAGS) -o $@ $< $(FZ_GCC_OBJS) build/fuzz-gcc/fz_driver.o \
		$(FZ_WRAP) $(FZ_WRAP_fuzz_$*) $(LIBS) $(TEST_LIBS)

fuzz-build: $(FUZZ_TARGETS:%=fuzz/bin/%)

fuzz-replay: $(FUZZ_ALL:fuzz_%=fuzz/bin/replay_%)
	@set -e; for t in $(FUZZ_ALL); do \
		./fuzz/bin/replay_$${t#fuzz_} fuzz/corpus/$$t >/dev/null 2>build/fuzz-replay.log || \
			{ cat build/fuzz-replay.log; echo "fuzz-replay: $$t failed"; exit 1; }; \
		tail -n 1 build/fuzz-replay.log; done; echo "every fuzz corpus replayed cleanly"

fuzz: fuzz-build
	@set -e; mkdir -p build/fuzz-artifacts; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz-work/$$t; echo "--- $$t ($(FUZZ_SECONDS) s)"; \
		nice -n 19 ./fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) $(if $(FUZZ_SEED),-seed=$(FUZZ_SEED)) -timeout=10 -print_final_stats=1 \
			-artifact_prefix=build/fuzz-artifacts/$$t- build/fuzz-work/$$t fuzz/corpus/$$t \
			>build/fuzz-work/$$t.log 2>&1 || { tail -n 60 build/fuzz-work/$$t.log; \
			echo "fuzz: $$t found a problem (input in build/fuzz-artifacts/)"; exit 1; }; \
		grep -E '^#[0-9]+[[:space:]]+DONE' build/fuzz-work/$$t.log | tr '\n' ' '; echo; \
	done; echo "no fuzz target found anything"
