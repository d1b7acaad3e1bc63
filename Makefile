# Leak & Limit Labs.  `make` runs every lab and draws every chart;
# `make test` proves each lab shows what its lesson claims.  `make help`.

SHELL   := /bin/bash
CC      ?= cc
CFLAGS  ?= -std=c11 -Wall -Wextra -Werror -O2 -g
CFLAGS  += -pthread -MMD -MP
BUILD   ?= build
OUT     ?= out
BATS    ?= bats

# Every labs/labN-name.c is a lab: build/labN, `make labN`, a chart set.
LAB_SRCS := $(sort $(wildcard labs/lab[0-9]*-*.c))
lab_num   = $(patsubst labs/lab%,%,$(firstword $(subst -, ,$(1))))
LAB_NUMS := $(foreach s,$(LAB_SRCS),$(call lab_num,$(s)))
LABS     := $(addprefix lab,$(LAB_NUMS))
LAB_BINS := $(addprefix $(BUILD)/,$(LABS))
HARNESS  := $(BUILD)/harness/lab.o $(BUILD)/harness/probe.o
TOOLS    := $(BUILD)/leaklab $(BUILD)/bench-probe

# Debian packages the suite needs; `make deps` installs what is missing.
DEBS := bats bats-assert bats-support gnuplot-nox valgrind poppler-utils \
        fonts-dejavu-core clang libclang-rt-14-dev heaptrack

.PHONY: all build deps test memcheck sanitize bench clean help charts $(LABS)

all: deps build $(LABS)
	@echo "Charts: $(foreach n,$(LAB_NUMS),$(OUT)/lab$(n)/compare.png)"

build: $(LAB_BINS) $(TOOLS)

deps:
	@harness/deps.sh $(DEBS)

$(BUILD)/harness/%.o: harness/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/leaklab: harness/leaklab.c $(BUILD)/harness/lab.o
	$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/bench-probe: harness/bench-probe.c $(HARNESS)
	$(CC) $(CFLAGS) -o $@ $^

# build/labN from labs/labN-*.c and the harness.
define lab_rule
$(BUILD)/lab$(call lab_num,$(1)): $(1) $(HARNESS)
	$$(CC) $$(CFLAGS) -o $$@ $$^
endef
$(foreach s,$(LAB_SRCS),$(eval $(call lab_rule,$(s))))

# make labN: every mode through the runner, then the charts.  A lab may set
# LABN_ARGS (arguments after --) and LABN_PREP (a target to make first).
$(LABS): lab%: deps build
	@rm -rf $(OUT)/lab$*
	@$(if $(LAB$*_PREP),$(MAKE) --no-print-directory $(LAB$*_PREP))
	$(BUILD)/leaklab run $* --quiet --out $(OUT) -- $(LAB$*_ARGS)
	@LEAKLAB_BUILD=$(BUILD) plots/plot.sh $(OUT)/lab$*
	@if [ -t 1 ]; then LEAKLAB_BUILD=$(BUILD) plots/plot.sh --text $(OUT)/lab$*; fi
	@echo "lab$*: charts in $(OUT)/lab$*/ (compare.png, <mode>.png, .svg)"

# The suite, then one plain closing line counted from bats' TAP report.
BATS_RUN = mkdir -p $(OUT)/test && \
	LEAKLAB_BUILD=$${LEAKLAB_BUILD:-$(BUILD)} $(BATS) --print-output-on-failure --report-formatter tap -o $(OUT)/test \
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
sanitize: deps
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan build \
	  CFLAGS='-std=c11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined'
	@export LEAKLAB_BUILD=$(BUILD)/asan LEAKLAB_SANITIZER=address \
	  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1; \
	  $(call BATS_RUN,)

bench: deps build
	@harness/bench.sh $(BUILD) $(OUT)/bench

clean:
	rm -rf $(BUILD) $(OUT)

help:
	@echo "make            install what is missing, run every lab, draw every chart"
	@echo "make labN       one lab, every mode: $(LABS)"
	@echo "make test       the bats suite: every lab shows what its lesson claims"
	@echo "make memcheck   only the Valgrind leak verdicts"
	@echo "make sanitize   the suite against an ASan+UBSan build"
	@echo "make bench      speed, as ratios against a reference timed in the same run"
	@echo "make deps       install the Debian packages: $(DEBS)"
	@echo "make build      compile into $(BUILD)/;  make clean  removes $(BUILD)/ and $(OUT)/"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
