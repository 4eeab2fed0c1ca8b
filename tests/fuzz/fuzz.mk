# tests/fuzz/fuzz.mk - libFuzzer harnesses for every parser of peer input
# (tests/fuzz/fuzz_*.c), included by the top-level Makefile (after its
# B and SA). Needs clang with libFuzzer and the sanitizer runtimes: Debian's
# clang and libclang-rt-14-dev (clang only recommends the latter).
#
#   make fuzz         build every harness into build/fuzz/ and run each for
#                     FUZZ_SECONDS (default 60) on its corpus
#                     build/fuzz/corpus/NAME/, seeded from tests/fuzz/seeds/NAME/;
#                     a line per harness, then a summary table
#   make fuzz-check   build them and run each once over its committed seeds
#                     (fails on any crash); part of make test's unit tests
#   make fuzz-seeds   regenerate tests/fuzz/seeds/ (tests/fuzz/gen_seeds.c)
#
# One harness: make build/fuzz/fuzz_image, then build/fuzz/fuzz_image
# build/fuzz/corpus/fuzz_image tests/fuzz/seeds/fuzz_image. A crash file
# reproduces with build/fuzz/NAME FILE; FUZZ_VERBOSE=1 makes the image,
# restore and agent harnesses say what their target decided (the agent's
# log). tests/fuzz/crashes/ holds the reproducers of project bugs found
# (see its README; FUZZ_STRICT=1 turns on the checks they break).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR := $(B)/fuzz
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
	-Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration \
	$(FUZZ_SAN) -Itests/fuzz -Imigrate
FUZZ_LIBS := -l:libbearssl.a
FUZZ_NAMES := fuzz_node_frames fuzz_ctl_frames fuzz_image fuzz_syscall fuzz_job_image \
	fuzz_restore fuzz_cmdline fuzz_link fuzz_agent
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
FUZZ_DEPS := tests/fuzz/fuzz.h tests/fuzz/fuzz.mk $(wildcard migrate/*.c migrate/*.h migrate/*.def)
FUZZ_MIGRATE := $(wildcard migrate/*.c)
# Inputs each harness takes at most (libFuzzer's -max_len): room for an
# IMAGE_BEGIN of every field, for a few frames of the agent's.
FUZZ_MAXLEN_fuzz_image := 65536
FUZZ_MAXLEN_fuzz_job_image := 65536
FUZZ_MAXLEN_fuzz_restore := 65536
FUZZ_MAXLEN_fuzz_agent := 65536
FUZZ_MAXLEN_fuzz_node_frames := 16384
FUZZ_MAXLEN_fuzz_ctl_frames := 16384
FUZZ_MAXLEN_fuzz_syscall := 16384
FUZZ_MAXLEN_fuzz_link := 16384
FUZZ_MAXLEN_fuzz_cmdline := 4096

.PHONY: fuzz fuzz-build fuzz-check fuzz-seeds

fuzz-build: $(FUZZ_BINS)

# Project sources are compiled once for all harnesses (instrumented, with
# the sanitizers), each folder seeing the headers it sees in the real
# build; a harness is its own .c linked with the objects it needs.
FUZZ_OBJ := $(FUZZ_DIR)/obj
fuzz_objs = $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(1))
$(FUZZ_OBJ)/$(SA)/agent/%.o: FUZZ_INC := -I$(SA)/agent -I$(SA)/ctl
$(FUZZ_OBJ)/$(SA)/ctl/%.o: FUZZ_INC := -I$(SA)/ctl
$(FUZZ_OBJ)/$(SA)/deputy/%.o: FUZZ_INC := -I$(SA)/deputy
$(FUZZ_OBJ)/kernel/%.o: FUZZ_INC := -Ikernel -Idrivers -Inet
$(FUZZ_OBJ)/%.o: %.c tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -MMD -MP -c $< -o $@
-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)

FUZZ_MIGRATE_OBJS := $(call fuzz_objs,$(FUZZ_MIGRATE))
FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS)

# The codec harnesses: migrate/ and, for its limits, the agent's headers.
$(FUZZ_DIR)/fuzz_node_frames $(FUZZ_DIR)/fuzz_ctl_frames $(FUZZ_DIR)/fuzz_image \
$(FUZZ_DIR)/fuzz_syscall $(FUZZ_DIR)/fuzz_link: $(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz_keys.h \
		$(FUZZ_DEPS) $(FUZZ_MIGRATE_OBJS)
	$(FUZZ_LINK) -I$(SA)/agent -I$(SA)/ctl -o $@ $< $(FUZZ_MIGRATE_OBJS) $(FUZZ_LIBS)

# The node's command line, built for the host as test_cmdline is.
$(FUZZ_DIR)/fuzz_cmdline: tests/fuzz/fuzz_cmdline.c $(FUZZ_DEPS) $(call fuzz_objs,kernel/cmdline.c migrate/hexkey.c)
	$(FUZZ_LINK) -Ikernel -Idrivers -Inet -o $@ $< $(call fuzz_objs,kernel/cmdline.c migrate/hexkey.c)

# The node's job-image intake, kernel code built for the host over stubs
# of the machine (the harness's header says what is real).
FUZZ_NODE_OBJS := $(call fuzz_objs,kernel/job_image.c kernel/job.c kernel/uvm.c kernel/fpu.c kernel/decide.c)
$(FUZZ_DIR)/fuzz_job_image: tests/fuzz/fuzz_job_image.c $(FUZZ_DEPS) $(FUZZ_NODE_OBJS) $(FUZZ_MIGRATE_OBJS) \
		$(FUZZ_OBJ)/tests/fuzz/fuzz_invlpg.o
	$(FUZZ_LINK) -Ikernel -Idrivers -Inet -o $@ $< $(FUZZ_NODE_OBJS) $(FUZZ_OBJ)/tests/fuzz/fuzz_invlpg.o \
		$(FUZZ_MIGRATE_OBJS) $(FUZZ_LIBS)

# Home's restore of a returning image: the deputy without inject.c, whose
# API the harness provides as a fake tracee; the home's mappings and
# ptrace are wrapped (the harness's header draws the boundary).
FUZZ_DEPUTY_OBJS := $(call fuzz_objs,$(filter-out $(SA)/deputy/inject.c,$(wildcard $(SA)/deputy/*.c)))
$(FUZZ_DIR)/fuzz_restore: tests/fuzz/fuzz_restore.c $(FUZZ_DEPS) $(FUZZ_DEPUTY_OBJS) $(FUZZ_MIGRATE_OBJS)
	$(FUZZ_LINK) -I$(SA)/deputy -Wl,--wrap=capture_read_maps,--wrap=ptrace \
		-o $@ $< $(FUZZ_DEPUTY_OBJS) $(FUZZ_MIGRATE_OBJS) $(FUZZ_LIBS)

# om-agent in process: its sources but main and the log (the harness's),
# and the tables the harness includes to empty them between inputs.
FUZZ_AGENT_OBJS := $(call fuzz_objs,$(filter-out \
	$(addprefix $(SA)/agent/,agent_main.c log.c nodes.c jobs.c admission.c moves.c), \
	$(wildcard $(SA)/agent/*.c)) $(wildcard $(SA)/ctl/*.c))
$(FUZZ_DIR)/fuzz_agent: tests/fuzz/fuzz_agent.c tests/fuzz/fuzz_keys.h $(FUZZ_DEPS) \
		$(wildcard $(SA)/agent/*.[ch]) $(FUZZ_AGENT_OBJS) $(FUZZ_MIGRATE_OBJS)
	$(FUZZ_LINK) -I$(SA)/agent -I$(SA)/ctl -Wl,--wrap=epoll_wait,--wrap=getsockopt,--wrap=accept4 \
		-o $@ $< $(FUZZ_AGENT_OBJS) $(FUZZ_MIGRATE_OBJS) $(FUZZ_LIBS)

# The seeds: written by the project's own encoders (gen_seeds.c).
$(FUZZ_DIR)/gen_seeds: tests/fuzz/gen_seeds.c tests/fuzz/fuzz_keys.h $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=all \
		-Itests/fuzz -Imigrate -o $@ $< $(FUZZ_MIGRATE) $(FUZZ_LIBS)
fuzz-seeds: $(FUZZ_DIR)/gen_seeds
	rm -rf tests/fuzz/seeds
	$(FUZZ_DIR)/gen_seeds tests/fuzz/seeds
	@find tests/fuzz/seeds -type f -printf '%s\n' | awk '{ s += $$1 } END { print "fuzz-seeds: " NR " files, " s " bytes" }'

# Every harness in turn, then the table. A crash does not stop the others;
# the target fails at the end if any harness crashed.
fuzz: $(FUZZ_BINS)
	@rm -rf $(FUZZ_DIR)/summary
	@echo "fuzz: $(words $(FUZZ_NAMES)) harnesses, $(FUZZ_SECONDS) s each"
	@printf '%-18s %10s %8s %7s %8s  %s\n' harness execs execs/s corpus size crashes
	@rc=0; \
	$(foreach n,$(FUZZ_NAMES),tests/fuzz/run_fuzz.sh $(FUZZ_DIR)/$(n) $(n) $(FUZZ_SECONDS) \
		$(FUZZ_MAXLEN_$(n)) tests/fuzz/seeds/$(n) $(FUZZ_DIR) || rc=1;) \
	{ echo; echo "summary ($(FUZZ_DIR)/summary.txt; corpora in $(FUZZ_DIR)/corpus, crash files in $(FUZZ_DIR)/crashes):"; \
	  printf '%-18s %10s %8s %7s %8s  %s\n' harness execs execs/s corpus size crashes; \
	  for n in $(FUZZ_NAMES); do cat $(FUZZ_DIR)/summary/$$n 2>/dev/null || echo "$$n: no result"; done; \
	} | tee $(FUZZ_DIR)/summary.txt; exit $$rc

# Each harness once over its committed seeds, no mutation: a crash fails.
# The seeds reach deep (a job placed and run, an image taken and sent back,
# a link session), so this checks the properties on real traffic in seconds.
fuzz-check: $(FUZZ_BINS)
	@rc=0; for n in $(FUZZ_NAMES); do \
		if $(FUZZ_DIR)/$$n -runs=0 -artifact_prefix=$(FUZZ_DIR)/check-$$n- tests/fuzz/seeds/$$n/* >$(FUZZ_DIR)/$$n.check.log 2>&1; then \
			echo "PASS fuzz-check/$$n ($$(ls tests/fuzz/seeds/$$n | wc -l) seeds)"; \
		else \
			echo "FAIL fuzz-check/$$n: see $(FUZZ_DIR)/$$n.check.log"; \
			grep -m1 -E 'ERROR: |property broken|om-agent fatal' $(FUZZ_DIR)/$$n.check.log | sed 's/^/    /'; \
			rc=1; \
		fi; \
	done; exit $$rc
