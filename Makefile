# Leak & Limit Labs.  `make` runs every lab and draws every chart;
# `make test` proves each lab shows what its lesson claims.  `make help`.

SHELL   := /bin/bash
CC      ?= cc
CFLAGS  ?= -std=c11 -Wall -Wextra -Werror -O2 -g
# Added to every compile, even when CFLAGS is given on the command line
# (make sanitize does): threads for lab 4, header dependencies for make.
COMPILE  = $(CC) $(CFLAGS) -pthread -MMD -MP
BUILD   ?= build
OUT     ?= out
BATS    ?= bats

# Every labs/labN-name.c is a lab: build/labN, `make labN`, a chart set.
LAB_SRCS := $(sort $(wildcard labs/lab[0-9]*-*.c))
lab_num   = $(patsubst labs/lab%,%,$(firstword $(subst -, ,$(1))))
LAB_NUMS := $(foreach s,$(LAB_SRCS),$(call lab_num,$(s)))
LABS     := $(addprefix lab,$(LAB_NUMS))
LAB_BINS := $(addprefix $(BUILD)/,$(LABS))

# Every labs/exercises/exN-name.c is an exercise a student fixes until
# `make check EX=N` passes; labs/exercises/solutions/ holds the reference
# fixes. Both build into $(BUILD)/exercises/, with the lab library.
EX_SRCS  := $(sort $(wildcard labs/exercises/ex[0-9]*-*.c \
                              labs/exercises/solutions/ex[0-9]*-*.c))
EX_BINS  := $(patsubst labs/%.c,$(BUILD)/%,$(EX_SRCS))

# harness/ holds two things. The lab library, linked into every lab:
# lab.c (the shared command line, --describe, the exits 1, 2 and 3),
# probe.c (memory at every iteration, the TSV), budget.c (the heap budget
# of labs 2 and 3), dest.c (lab 5's temporary-and-rename destination).
LAB_LIB  := $(BUILD)/harness/lab.o $(BUILD)/harness/probe.o \
            $(BUILD)/harness/budget.o $(BUILD)/harness/dest.o
# And the programs that run labs or help test them, never linked into a
# lab: the runner (leaklab.c, with hunt.c, quiz.c, and node.c: the
# Node.js twins of labs/node/, run with --node), make bench's timers (bench-probe.c,
# bench-run.c), and LD_PRELOAD shims for lab 5's tests (shortio.c,
# notmpfile.c). Each takes only the parts of the library it needs.
TOOLS    := $(BUILD)/leaklab $(BUILD)/bench-probe $(BUILD)/bench-run \
            $(BUILD)/shortio.so $(BUILD)/notmpfile.so $(BUILD)/diskfull.so

# Debian packages the suite needs; `make deps` installs what is missing.
DEBS := bats bats-assert bats-support gnuplot-nox valgrind poppler-utils \
        fonts-dejavu-core clang libclang-rt-14-dev heaptrack libxml2-utils bsdextrautils \
        gcc shellcheck cppcheck patch redis-server libhiredis-dev \
        libmicrohttpd-dev libcurl4-openssl-dev curl parallel nodejs

.PHONY: all build deps test memcheck sanitize tsan bench clean help charts lint $(LABS)

all: deps build $(LABS)
	@echo "Charts: $(foreach n,$(LAB_NUMS),$(OUT)/lab$(n)/compare.png)"

build: $(LAB_BINS) $(TOOLS) $(EX_BINS)

deps:
	@harness/deps.sh $(DEBS)

$(BUILD)/harness/%.o: harness/%.c
	@mkdir -p $(@D)
	$(COMPILE) -c -o $@ $<

$(BUILD)/leaklab: harness/leaklab.c $(BUILD)/harness/hunt.o $(BUILD)/harness/quiz.o \
                  $(BUILD)/harness/lab.o $(BUILD)/harness/node.o
	$(COMPILE) -o $@ $(filter %.c %.o,$^)

$(BUILD)/bench-probe: harness/bench-probe.c $(LAB_LIB)
	$(COMPILE) -o $@ $(filter %.c %.o,$^)

# Wall time and wait4's peak rss of one command, for make bench.
$(BUILD)/bench-run: harness/bench-run.c $(BUILD)/harness/lab.o
	$(COMPILE) -o $@ $(filter %.c %.o,$^)

# LD_PRELOAD shims for tests: short reads, short writes and EINTR; a file
# system without O_TMPFILE; a disk that fills at a known write.
$(BUILD)/%.so: harness/%.c
	$(COMPILE) -fPIC -shared -o $@ $< -ldl

# Lab 6's redis mode starts a redis-server of its own (harness/redis.c,
# linked into lab 6 alone) and talks to it with hiredis. Both are in DEBS;
# a build without hiredis still builds lab 6, whose redis mode then exits
# 1 naming the package and make deps, while its other modes run. Lab 6's
# compile asks whether hiredis is there (after make deps has run); so
# does make as it starts, for the stamp's name (hiredis-yes or -no) that
# rebuilds lab 6 once hiredis comes or goes. HIREDIS=no builds without it.
has_hiredis  = printf '\#include <hiredis/hiredis.h>\n' | $(CC) -E -x c - >/dev/null 2>&1
HIREDIS     ?= $(shell $(has_hiredis) && echo yes || echo no)
hiredis_now  = $(if $(filter command line,$(origin HIREDIS)),$(HIREDIS),$(shell $(has_hiredis) && echo yes || echo no))
LAB6_DEPS   := $(BUILD)/harness/redis.o $(BUILD)/hiredis-$(HIREDIS).stamp
LAB6_FLAGS   = -lm $(if $(filter yes,$(hiredis_now)),-DLEAKLAB_HIREDIS=1 -lhiredis,-DLEAKLAB_HIREDIS=0)
$(BUILD)/hiredis-%.stamp:
	@mkdir -p $(@D) && rm -f $(BUILD)/hiredis-*.stamp && touch $@

# Lab 7 serves HTTP with libmicrohttpd (harness/httpd.c) and drives itself
# with libcurl (harness/loadgen.c), both linked into lab 7 alone.
LAB7_DEPS  := $(BUILD)/harness/httpd.o $(BUILD)/harness/loadgen.o
LAB7_FLAGS := -lmicrohttpd -lcurl

# build/labN from labs/labN-*.c and the lab library. A lab may add
# LABN_DEPS, more prerequisites (the objects among them are linked in),
# and LABN_FLAGS, more words for its compile and link (-D, -l).
define lab_rule
$(BUILD)/lab$(call lab_num,$(1)): $(1) $(LAB_LIB) $(LAB$(call lab_num,$(1))_DEPS)
	$$(COMPILE) -o $$@ $$(filter %.c %.o,$$^) $$(LAB$(call lab_num,$(1))_FLAGS)
endef
$(foreach s,$(LAB_SRCS),$(eval $(call lab_rule,$(s))))

# build/exercises/exN-name and build/exercises/solutions/exN-name.
$(BUILD)/exercises/%: labs/exercises/%.c $(LAB_LIB)
	@mkdir -p $(@D)
	$(COMPILE) -I harness -o $@ $(filter %.c %.o,$^)

# make check EX=N [SOLUTION=1]: exercise N built, run under the runner,
# its output and its memory budget judged (one line each), and its chart
# drawn beside the reference fix's. Exit 0: pass; 1: not yet. SOLUTION=1
# checks the reference fix instead of labs/exercises/exN-*.c.
.PHONY: check
check: deps $(BUILD)/leaklab $(filter $(BUILD)/exercises/ex$(EX)-% \
                                      $(BUILD)/exercises/solutions/ex$(EX)-%,$(EX_BINS))
	@harness/check.sh $(if $(filter-out 0 no,$(SOLUTION)),--solution) \
	  --build "$(BUILD)" --out "$(OUT)" "$(EX)"

# make labN: every mode through the runner, then the charts, drawn from
# the records alone.  A lab may set LABN_ARGS (arguments after --) and
# LABN_PREP (a target to make first).
# The runner clears the last run's records and charts under its lock
# (--fresh), so that two `make labN` at once cannot delete each other's;
# it prints a summary table, and keeps each lab's own words in
# out/labN/MODE.log (VERBOSE=1 shows them).
# A lab with a Node.js twin (labs/node/labN-*.js) runs it too when node is
# installed, with the same arguments and no --fresh (the first run cleared
# both), and draws the two side by side: out/labN/node-compare.png.
$(LABS): lab%: deps build
	@$(if $(LAB$*_PREP),$(MAKE) --no-print-directory $(LAB$*_PREP))
	@$(BUILD)/leaklab run $* --quiet --fresh $(if $(VERBOSE),--verbose) --out $(OUT)$(if $(LAB$*_ARGS), -- $(LAB$*_ARGS))
	@$(if $(wildcard labs/node/lab$*-*.js),if command -v node >/dev/null; then \
	  $(BUILD)/leaklab run $* --node --quiet $(if $(VERBOSE),--verbose) --out $(OUT)$(if $(LAB$*_ARGS), -- $(LAB$*_ARGS)) && \
	  plots/node-compare.sh $(OUT)/lab$*; \
	else echo "lab$*: no node here: its Node.js twin is skipped (make deps installs nodejs)"; fi)
	@plots/plot.sh $(OUT)/lab$*
	@$(foreach m,$(LAB$*_HUNT),$(BUILD)/leaklab hunt $* --mode $(m) --quiet --out $(OUT) && plots/hunt.sh $(OUT)/lab$*/$(m)-hunt.tsv && ) :
	@if [ -t 1 ] && [ "$(TEXT_CHARTS)" != no ]; then plots/plot.sh --text $(OUT)/lab$*; fi
	@echo "lab$*: charts in $(OUT)/lab$*/ (compare.png, <mode>.png, .svg$(if $(wildcard labs/node/lab$*-*.js),; node-compare.png beside its twin))"

# make slides: every lab, then the deck, $(OUT)/slides.pdf (16:9: a title
# page, how to read a chart, per lab its showcase run and its comparison,
# and beside its Node.js twin where one ran, a closing page; see
# plots/slides.sh). The labs are the ones discovered
# above; no text charts in between.
.PHONY: slides massif example
slides: TEXT_CHARTS = no
slides: deps build $(LABS)
	@plots/slides.sh $(OUT)

# make massif LAB=N [MODE=M]: that mode under Valgrind's massif, beside the
# probe's own numbers: $(OUT)/labN/M-massif.png|svg (PAGES=yes for
# --pages-as-heap). MODE defaults to the lab's showcase.
massif: deps build
	@[[ "$(LAB)" =~ ^[0-9]+$$ ]] || { echo "usage: make massif LAB=N [MODE=M] [PAGES=yes]" >&2; exit 2; }
	@$(if $(LAB$(LAB)_PREP),$(MAKE) --no-print-directory $(LAB$(LAB)_PREP))
	@PAGES=$(PAGES) LEAKLAB_BUILD=$(BUILD) plots/massif.sh $(LAB) $(MODE) $(OUT) -- $(LAB$(LAB)_ARGS)

# make example: the charts README and LESSONS show, 800x450, redrawn from
# fresh runs of every lab: plots/example-labN.png (each lab's comparison;
# README opens with lab 1's) and plots/example-labN-MODE.png for the runs
# LESSONS shows on their own (EXAMPLE_RUNS). The generated files that are
# committed, so that both show their charts before anything has run.
EXAMPLE_RUNS := lab4/unbounded lab4/bounded
example: TEXT_CHARTS = no
example: deps build $(LABS)
	@for n in $(LAB_NUMS); do \
	  plots/plot.sh --formats small $(OUT)/lab$$n && \
	  cp $(OUT)/lab$$n/compare-small.png plots/example-lab$$n.png || exit 1; \
	done
	@for r in $(EXAMPLE_RUNS); do \
	  cp $(OUT)/$$r-small.png plots/example-$${r%%/*}-$${r#*/}.png || exit 1; \
	done
	@echo "example: $(foreach n,$(LAB_NUMS),plots/example-lab$(n).png) $(foreach r,$(EXAMPLE_RUNS),plots/example-$(subst /,-,$(r)).png)"

# Lab 7 is hunted too: after its runs, each named class of leak under
# leaklab hunt (memcheck's snapshots, compared), and what each hunt found
# drawn, $(OUT)/lab7/MODE-hunt.png. A lab may set LABN_HUNT, the modes to
# hunt.
LAB7_HUNT := frequent occasional once hidden fixed

# make node-tables: every lab and its Node.js twin, then LESSONS.md's
# tables of Node figures rewritten from those runs (the lines between
# <!-- node-table:labN --> and <!-- /node-table:labN -->): measured on
# this machine, never typed. Needs node (make deps installs nodejs).
.PHONY: node-tables
node-tables: TEXT_CHARTS = no
node-tables: deps build $(LABS)
	@harness/node-tables.sh $(OUT) LESSONS.md

# Lab 5 copies a file the runner does not make: generate one first.
LAB5_INPUT := $(OUT)/lab5/input.bin
LAB5_ARGS  := $(LAB5_INPUT) $(OUT)/lab5/copy.bin
LAB5_PREP  := lab5-input
.PHONY: lab5-input
lab5-input: $(BUILD)/lab5
	@mkdir -p $(dir $(LAB5_INPUT))
	$(BUILD)/lab5 --make-input 32M $(LAB5_INPUT)

# The suite, then one plain closing line counted from bats' TAP report.
# Test files run TEST_JOBS at a time (GNU parallel, in DEBS), each file's
# tests in order: the suite is CPU-bound and serial, and two at once keep
# `make test` well under three minutes on two cores. TEST_JOBS=1, or no
# parallel installed, runs them one by one, as `bats labs/` does.
TEST_JOBS ?= 2
BATS_JOBS = $(if $(filter-out 1,$(TEST_JOBS)),$(if $(shell command -v parallel),--jobs $(TEST_JOBS) --no-parallelize-within-files))
BATS_RUN = mkdir -p $(OUT)/test && \
	LEAKLAB_BUILD=$${LEAKLAB_BUILD:-$(BUILD)} $(BATS) --print-output-on-failure $(BATS_JOBS) --report-formatter tap -o $(OUT)/test \
	  $(1) labs/; rc=$$?; \
	awk '/^ok .* \# skip/ { s++; next } /^ok / { p++ } /^not ok / { f++ } \
	  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' \
	  $(OUT)/test/report.tap; exit $$rc

test: deps build
	@$(call BATS_RUN,)

memcheck: deps build
	@$(call BATS_RUN,--filter memcheck)

# ASan + UBSan build of everything, in its own directory, with the whole
# suite run against it.  RLIMIT_AS cannot cap ASan (it reserves terabytes
# of address space), so the runner switches those runs to the kill watchdog.
sanitize: deps tsan
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan build \
	  CFLAGS='-std=c11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined'
	@export LEAKLAB_BUILD=$(BUILD)/asan LEAKLAB_SANITIZER=address \
	  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1; \
	  $(call BATS_RUN,)

# ThreadSanitizer build of the labs with threads (lab 4's producer and
# consumer, lab 7's server and client) and the runner, in its own
# directory, and their tests against it, with lab 4's challenge's
# (labs/challenges.bats, which skips the labs not built). Any race report
# fails the run (exitcode 66).
TSAN_CFLAGS := -std=c11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer -fsanitize=thread
tsan: deps
	$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan CFLAGS='$(TSAN_CFLAGS)' \
	  $(BUILD)/tsan/lab4 $(BUILD)/tsan/lab7 $(BUILD)/tsan/leaklab
	@mkdir -p $(OUT)/tsan && \
	  LEAKLAB_BUILD=$(BUILD)/tsan LEAKLAB_SANITIZER=thread \
	  TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
	  $(BATS) --print-output-on-failure --report-formatter tap -o $(OUT)/tsan \
	    labs/lab4-queue.bats labs/lab7-server.bats labs/challenges.bats; rc=$$?; \
	  awk '/^ok .* \# skip/ { s++; next } /^ok / { p++ } /^not ok / { f++ } \
	    END { printf "tsan: %d passed, %d failed, %d skipped\n", p, f, s }' \
	    $(OUT)/tsan/report.tap; exit $$rc

# make lint: the static checks CI runs, each of which must find nothing.
# shellcheck reads every shell script and the bats files (warnings and
# errors); gcc's -fanalyzer and cppcheck read every C file. cppcheck does
# not read system headers, so .ci/cppcheck.cfg tells it what <stdnoreturn.h>
# would: lab_usage, lab_fail and lab_wall never return. A false positive
# is silenced at its line, with a comment saying why.
LINT_SH := $(wildcard harness/*.sh plots/*.sh) .ci/run $(wildcard labs/*.bash) \
           $(wildcard labs/*.bats)
LINT_C  := $(wildcard harness/*.c labs/*.c labs/exercises/*.c \
                      labs/exercises/solutions/*.c)
lint: deps
	@rc=0; \
	shellcheck -S warning -f gcc $(LINT_SH) || rc=1; \
	for f in $(LINT_C); do \
	  gcc -std=c11 -Wall -Wextra -pthread -fanalyzer -I harness -c -o /dev/null "$$f" || rc=1; \
	done; \
	cppcheck -q --std=c11 --enable=warning,style,performance,portability \
	  --library=posix --library=.ci/cppcheck.cfg --inline-suppr \
	  --error-exitcode=1 --template=gcc -I harness $(LINT_C) || rc=1; \
	for f in labs/node/*.js; do \
	  node --check "$$f" || rc=1; \
	  head -n 1 "$$f" | grep -qx "'use strict';" || { echo "$$f:1: not 'use strict';" >&2; rc=1; }; \
	done; \
	if [ $$rc -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above" >&2; fi; \
	exit $$rc

bench: deps build
	@harness/bench.sh $(BUILD) $(OUT)/bench

clean:
	rm -rf $(BUILD) $(OUT)

help:
	@echo "make            install what is missing, run every lab, draw every chart"
	@echo "make labN       one lab, every mode: $(LABS)"
	@echo "make test       the bats suite: every lab shows what its lesson claims"
	@echo "make memcheck   only the Valgrind leak verdicts"
	@echo "make sanitize   the suite against an ASan+UBSan build (and make tsan)"
	@echo "make lint       shellcheck, gcc -fanalyzer, cppcheck, node --check: every finding fails it"
	@echo "make tsan       lab 4's and lab 7's tests against a ThreadSanitizer build"
	@echo "make bench      speed, as ratios against a reference timed in the same run"
	@echo "make slides     every lab, then the classroom deck: $(OUT)/slides.pdf (16:9)"
	@echo "make massif LAB=N [MODE=M]  one mode under Valgrind massif, beside the probe"
	@echo "make check EX=N [SOLUTION=1]  exercise N judged: its output, its memory budget"
	@echo "make example    redraw the charts README and LESSONS show, plots/example-*.png"
	@echo "make node-tables  every lab and its Node.js twin, then LESSONS.md's Node tables from them"
	@echo "make deps       install the Debian packages: $(DEBS)"
	@echo "make build      compile into $(BUILD)/;  make clean  removes $(BUILD)/ and $(OUT)/"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
