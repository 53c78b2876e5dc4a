# Makefile - the eventstore extension and output plugin (one shared library,
# built with PGXS), plus the project's own targets.
#
#   make && make install      build and install the extension (root or sudo)
#   make installcheck         pg_regress + isolation tests against a running server
#   make test                 the whole test suite on throwaway servers (scripts/test.sh)
#   make demo                 the local demo (scripts/demo.sh)
#   make bench                the benchmarks (bench/)
#   make relay                the relay daemon (relay/)

EXTENSION = eventstore
MODULE_big = eventstore
OBJS = \
	src/eventstore.o \
	src/append.o \
	src/jsonb_compact.o \
	src/envelope.o \
	src/decode.o

# The C flavour's install script, and the SQL flavour (version 1.0-sql) with
# the scripts that switch a database between the two, generated from it by
# scripts/gen-sql-flavour.sh.
DATA = $(wildcard sql/eventstore--*.sql)
PGFILEDESC = "eventstore - event store and logical decoding output plugin"

REGRESS = setup append errors idempotency load privileges bad_input flavours append_random decode decode_options decode_options_random
REGRESS_OPTS = --load-extension=eventstore
ISOLATION = append_race decode_interleaved
ISOLATION_OPTS = --load-extension=eventstore

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: test demo bench relay format format-check
test:
	bash scripts/test.sh
demo:
	bash scripts/demo.sh
bench:
	bash bench/run.sh
relay:
	$(MAKE) -C relay
# src/.clang-format: PostgreSQL's style, as close to pgindent as clang-format
# 14 gets (the relay has its own targets: make -C relay format-check).
format:
	clang-format -i src/*.c src/*.h
format-check:
	clang-format --dry-run --Werror src/*.c src/*.h
