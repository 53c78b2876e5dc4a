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
	src/decode.o

# Every install and upgrade script: a schema change ships as a new
# sql/eventstore--OLD--NEW.sql, never by editing a released script.
DATA = $(wildcard sql/eventstore--*.sql)
PGFILEDESC = "eventstore - event store and logical decoding output plugin"

REGRESS = setup append errors idempotency load privileges decode decode_options
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
format:
	clang-format -i src/*.c src/*.h
format-check:
	clang-format --dry-run --Werror src/*.c src/*.h
