# om - top-level build. `make setup` installs and fetches everything the build
# needs (idempotent); `make` builds; `make test` and `make demo` run setup
# first. Nothing third-party is committed: it lands in build/third_party/.

SHELL := /bin/bash
B := build
TP := $(B)/third_party
NEWLIB := $(TP)/newlib-install/x86_64-elf
LWIP := $(TP)/lwip
BEARSSL := $(TP)/bearssl-node

APT_PACKAGES := gcc make binutils dpkg-dev xz-utils python3 \
	qemu-system-x86 qemu-utils ovmf gnu-efi ipxe ipxe-qemu \
	newlib-source musl-tools busybox-static libncurses-dev groff-base man-db \
	dnsmasq-base iproute2 psf-unifont libpython3.11-testsuite libbearssl-dev \
	clang libclang-rt-14-dev
DEB_SRC_LIST := /etc/apt/sources.list.d/om-deb-src.sources

.PHONY: all setup test unit-test qemu-test demo bench clean distclean help
all: $(B)/om-node.elf $(B)/om-node.efi $(B)/om-agent $(B)/om-mon $(B)/om-run $(B)/om-migrate $(B)/om-ctl

help:
	@echo "make setup   install Debian packages, fetch lwIP, build newlib (idempotent)"
	@echo "make         build the node image and the server tools"
	@echo "make test    setup, build, then unit tests and QEMU end-to-end tests"
	@echo "make demo    setup, build, start an agent and two QEMU nodes, show om-mon"
	@echo "make bench   side-by-side benchmarks: om vs a Linux guest, the link, natively (docs/PERFORMANCE.md)"
	@echo "make fuzz    libFuzzer on every parser of peer input, FUZZ_SECONDS each (tests/fuzz/fuzz.mk)"
	@echo "make install tools and man pages, node images, boot menu, systemd unit (DESTDIR, PREFIX, TFTPDIR, OM_SERVER; docs/pxe.md)"
	@echo "make clean   remove build outputs (keeps build/third_party)"

# ---------------------------------------------------------------- setup
setup: $(TP)/.apt-ok $(LWIP)/.ok $(NEWLIB)/lib/libc.a $(BEARSSL)/libbearssl.a $(TP)/linux/.ok $(TP)/bzip2/.ok

# Re-checked on every setup: installs only what is missing.
$(TP)/.apt-ok: FORCE
	@mkdir -p $(TP)
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "setup: installing$$(echo $$missing | sed 's/^/ /')"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@touch $@

# A real C project from Debian's sources for qemu-tests/test_make.py
# (om-run make -j4, byte-identical to a native build); after lwIP, which
# sets up the deb-src entry.
$(TP)/bzip2/.ok: | $(LWIP)/.ok
	@rm -rf $(TP)/bzip2-src && mkdir -p $(TP)/bzip2-src
	@echo "setup: apt-get source bzip2"
	@cd $(TP)/bzip2-src && apt-get source -qq bzip2 >/dev/null 2>&1 || \
		{ echo "setup: apt-get source bzip2 failed"; exit 1; }
	@d=$$(find $(TP)/bzip2-src -maxdepth 1 -mindepth 1 -type d -name 'bzip2-*' | head -1); \
		test -f $$d/blocksort.c -a -f $$d/Makefile || { echo "setup: bzip2 source tree not found"; exit 1; }; \
		rm -rf $(TP)/bzip2 && mv $$d $(TP)/bzip2
	@rm -rf $(TP)/bzip2-src
	@touch $@

# lwIP comes as Debian's source package, which needs a deb-src entry.
$(LWIP)/.ok: | $(TP)/.apt-ok
	@if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then \
		echo "setup: adding deb-src entries ($(DEB_SRC_LIST))"; \
		sed -n 's/^Types: deb$$/Types: deb-src/p; /^Types:/!p' /etc/apt/sources.list.d/debian.sources \
			> $(DEB_SRC_LIST) 2>/dev/null || true; \
		if [ ! -s $(DEB_SRC_LIST) ]; then \
			printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > $(DEB_SRC_LIST); \
		fi; \
		apt-get update -qq || exit 1; \
	fi
	@rm -rf $(TP)/lwip-src && mkdir -p $(TP)/lwip-src
	@echo "setup: apt-get source lwip"
	@cd $(TP)/lwip-src && apt-get source -qq lwip >/dev/null 2>&1 || \
		{ echo "setup: apt-get source lwip failed"; exit 1; }
	@d=$$(find $(TP)/lwip-src -maxdepth 1 -mindepth 1 -type d -name 'lwip-*' | head -1); \
		test -f $$d/src/core/tcp.c || { echo "setup: lwip source tree not found"; exit 1; }; \
		rm -rf $(LWIP) && mv $$d $(LWIP)
	@rm -rf $(TP)/lwip-src
	@touch $@

# The Linux guest of `make bench` (bench/linux_guest.py): the kernel of
# Debian's linux-image-amd64, unpacked, never installed on the host. The
# metapackage names the concrete linux-image-6.1*-amd64 package it depends on.
$(TP)/linux/.ok: | $(TP)/.apt-ok
	@test -n "$$(apt-cache policy linux-image-amd64 2>/dev/null | grep Candidate)" || apt-get update -qq
	@pkg=$$(apt-cache depends linux-image-amd64 2>/dev/null | \
		sed -n 's/^ *Depends: \(linux-image-6\.1[^ ]*-amd64\)$$/\1/p' | head -1); \
	test -n "$$pkg" || { echo "setup: apt-cache depends linux-image-amd64 names no linux-image-6.1*-amd64"; exit 1; }; \
	echo "setup: apt-get download $$pkg"; \
	rm -rf $(TP)/linux $(TP)/linux-dl && mkdir -p $(TP)/linux-dl && \
	(cd $(TP)/linux-dl && { apt-get download -qq $$pkg 2>/dev/null || \
		{ apt-get update -qq && apt-get download -qq $$pkg 2>/dev/null; }; }) && \
	dpkg-deb -x $(TP)/linux-dl/$${pkg}_*.deb $(TP)/linux && \
	ls $(TP)/linux/boot/vmlinuz-* >/dev/null || { echo "setup: no kernel in $$pkg"; exit 1; }
	@rm -rf $(TP)/linux-dl
	@touch $@

# newlib 3.3.0 from newlib-source, built for x86_64-elf with the host gcc.
NEWLIB_CFLAGS := -O2 -g -ffreestanding -mno-red-zone -mcmodel=kernel -fno-pic -fno-stack-protector
$(NEWLIB)/lib/libc.a: | $(TP)/.apt-ok
	@echo "setup: building newlib for x86_64-elf (about a minute)"
	@rm -rf $(TP)/newlib-src $(TP)/newlib-build $(TP)/newlib-install
	@mkdir -p $(TP)/newlib-src $(TP)/newlib-build
	@tar -C $(TP)/newlib-src --strip-components=1 -xf /usr/src/newlib/newlib-*.tar.xz
	@cd $(TP)/newlib-build && ../newlib-src/configure --target=x86_64-elf \
		--prefix=$(CURDIR)/$(TP)/newlib-install --disable-multilib \
		--disable-newlib-supplied-syscalls --enable-newlib-reent-small \
		--disable-newlib-fvwrite-in-streamio --disable-newlib-wide-orient \
		--enable-newlib-nano-malloc --disable-newlib-unbuf-stream-opt \
		CC_FOR_TARGET=gcc AR_FOR_TARGET=ar RANLIB_FOR_TARGET=ranlib \
		AS_FOR_TARGET=as LD_FOR_TARGET=ld NM_FOR_TARGET=nm \
		OBJDUMP_FOR_TARGET=objdump STRIP_FOR_TARGET=strip \
		CFLAGS_FOR_TARGET="$(NEWLIB_CFLAGS)" > ../newlib-configure.log 2>&1 || \
		{ echo "setup: newlib configure failed, see $(TP)/newlib-configure.log"; exit 1; }
	@$(MAKE) -C $(TP)/newlib-build -j$$(nproc) all-target-newlib > $(TP)/newlib-build.log 2>&1 && \
		$(MAKE) -C $(TP)/newlib-build install-target-newlib >> $(TP)/newlib-build.log 2>&1 || \
		{ echo "setup: newlib build failed, see $(TP)/newlib-build.log"; exit 1; }
	@rm -rf $(TP)/newlib-src $(TP)/newlib-build
	@test -f $@

# BearSSL for the node's link (migrate/noise.c, docs/security.md): Debian's
# bearssl source package, only the primitives the link uses (X25519,
# ChaCha20-Poly1305, SHA-256, HMAC, HMAC-DRBG), built freestanding with the
# node's flags. The server tools link the same release from libbearssl-dev.
BEARSSL_SRCS := codec/ccopy.c codec/dec32le.c codec/dec32be.c codec/enc32le.c codec/enc32be.c \
	codec/dec64be.c codec/enc64be.c codec/dec64le.c codec/enc64le.c hash/sha2small.c \
	mac/hmac.c symcipher/chacha20_ct.c symcipher/poly1305_ctmul.c ec/ec_c25519_m31.c \
	rand/hmac_drbg.c
BEARSSL_CFLAGS := $(NEWLIB_CFLAGS) -w -nostdinc -isystem $(NEWLIB)/include \
	-isystem $(shell gcc -print-file-name=include)
$(BEARSSL)/libbearssl.a: | $(LWIP)/.ok $(NEWLIB)/lib/libc.a
	@rm -rf $(TP)/bearssl-src $(BEARSSL) && mkdir -p $(TP)/bearssl-src $(BEARSSL)/obj $(BEARSSL)/include/bearssl
	@echo "setup: apt-get source bearssl, building its link primitives for the node"
	@cd $(TP)/bearssl-src && apt-get source -qq bearssl >/dev/null 2>&1 || \
		{ echo "setup: apt-get source bearssl failed"; exit 1; }
	@d=$$(find $(TP)/bearssl-src -maxdepth 1 -mindepth 1 -type d -name 'bearssl-*' | head -1); \
		test -f $$d/inc/bearssl.h || { echo "setup: bearssl source tree not found"; exit 1; }; \
		cp $$d/inc/*.h $(BEARSSL)/include/bearssl/ && \
		for s in $(BEARSSL_SRCS); do \
			gcc $(BEARSSL_CFLAGS) -I$$d/inc -I$$d/src -c $$d/src/$$s -o $(BEARSSL)/obj/$$(basename $$s .c).o || exit 1; \
		done
	@ar rcs $@.tmp $(BEARSSL)/obj/*.o && mv $@.tmp $@
	@rm -rf $(TP)/bearssl-src $(BEARSSL)/obj

# ---------------------------------------------------------------- node image
# Node code is freestanding: higher-half kernel model, no red zone (interrupts
# push onto the same stack), newlib's headers instead of the host's.
NODE_CC := gcc
NODE_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration \
	-ffreestanding -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-nostdinc -isystem $(NEWLIB)/include -isystem $(shell gcc -print-file-name=include) \
	-Ikernel -Idrivers -Inet -Imigrate -I$(LWIP)/src/include -isystem $(BEARSSL)/include -DOM_NODE
NODE_ASFLAGS := -g -Ikernel -Iboot
NODE_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -T linker/node.ld

LWIP_SRCS := $(addprefix $(LWIP)/src/core/, init.c def.c inet_chksum.c ip.c \
	mem.c memp.c netif.c pbuf.c raw.c stats.c sys.c tcp.c tcp_in.c tcp_out.c \
	timeouts.c udp.c ipv4/dhcp.c ipv4/etharp.c ipv4/icmp.c ipv4/ip4_frag.c \
	ipv4/ip4.c ipv4/ip4_addr.c ) $(LWIP)/src/netif/ethernet.c
NODE_SRCS := $(wildcard boot/*.S boot/multiboot.c boot/handoff.c kernel/*.S kernel/*.c drivers/*.c net/*.c) \
	$(filter-out %_host.c,$(wildcard migrate/*.c))
NODE_OBJS := $(patsubst %,$(B)/node/%.o,$(NODE_SRCS)) \
	$(patsubst $(LWIP)/%,$(B)/node/lwip/%.o,$(filter $(wildcard $(LWIP_SRCS)),$(LWIP_SRCS)))

# The framebuffer console's font: a PSF file from Debian's psf-unifont,
# unpacked and linked in as data (kernel/fbcon.c parses it). Not committed.
FONT_PSF_GZ := /usr/share/consolefonts/Unifont-APL8x16.psf.gz
FONT_SYM := _binary_$(subst /,_,$(subst .,_,$(B)/font/console.psf))
NODE_OBJS += $(B)/node/font.o

$(B)/font/console.psf:
	@test -f $(FONT_PSF_GZ) || { echo "$(FONT_PSF_GZ) missing: run 'make setup' (package psf-unifont)"; exit 1; }
	@mkdir -p $(dir $@)
	@echo "  FONT    $@"
	@gunzip -c $(FONT_PSF_GZ) > $@.tmp && mv $@.tmp $@
$(B)/node/font.o: $(B)/font/console.psf
	@mkdir -p $(dir $@)
	@objcopy -I binary -O elf64-x86-64 -B i386:x86-64 \
		--rename-section .data=.rodata.font,alloc,load,readonly,data,contents \
		--redefine-sym $(FONT_SYM)_start=fbcon_font_psf \
		--redefine-sym $(FONT_SYM)_end=fbcon_font_psf_end \
		--strip-symbol $(FONT_SYM)_size $< $@

$(B)/node/%.c.o: %.c | setup-done
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(NODE_CC) $(NODE_CFLAGS) -MMD -MP -c $< -o $@
$(B)/node/%.S.o: %.S | setup-done
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(NODE_CC) $(NODE_ASFLAGS) -MMD -MP -c $< -o $@
$(B)/node/lwip/%.c.o: $(LWIP)/%.c | setup-done
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(NODE_CC) $(NODE_CFLAGS) -w -c $< -o $@

# The ring-3 self-test program (om.selftest) is built into the image.
$(B)/selftest-user.elf: qemu-tests/selftest/user.c
	@echo "  CC      $<"
	@gcc -std=gnu11 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
		-fno-asynchronous-unwind-tables -Wl,--build-id=none -Wl,-Ttext-segment=0x400000 -o $@ $<
$(B)/node/kernel/selftest_blob.S.o: $(B)/selftest-user.elf

# om-node-debug.elf keeps the symbols for gdb; om-node.elf, what clients
# fetch over TFTP, goes without them (a fifth of the size).
$(B)/om-node-debug.elf: $(NODE_OBJS) linker/node.ld
	@echo "  LD      $@"
	@$(NODE_CC) $(NODE_LDFLAGS) -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack -Wl,--build-id=none -o $@ $(NODE_OBJS) \
		$(BEARSSL)/libbearssl.a $(NEWLIB)/lib/libc.a $(NEWLIB)/lib/libm.a $$(gcc -print-libgcc-file-name)
$(B)/om-node.elf: $(B)/om-node-debug.elf
	@echo "  STRIP   $@"
	@objcopy --strip-debug $< $@

# ---------------------------------------------------------------- UEFI loader
# build/om-node.efi: a GNU-EFI application (boot/efi/, docs/uefi.md) that
# carries the node image inside it. gnu-efi's recipe: position-independent
# code linked as a shared object with its crt0 and linker script, then
# objcopy'd into a PE32+ EFI application. Firmware calls use the MS ABI
# directly (GNU_EFI_USE_MS_ABI), no call wrapper.
EFI_INC := /usr/include/efi
EFI_LIB := /usr/lib
EFI_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration \
	-fpic -fshort-wchar -mno-red-zone -ffreestanding -fno-stack-protector \
	-fno-strict-aliasing -maccumulate-outgoing-args -mno-mmx -mno-sse \
	-DGNU_EFI_USE_MS_ABI -I$(EFI_INC) -I$(EFI_INC)/x86_64 -I$(EFI_INC)/protocol -Ikernel
EFI_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined \
	-T $(EFI_LIB)/elf_x86_64_efi.lds
EFI_SRCS := $(wildcard boot/efi/*.c)
EFI_OBJS := $(patsubst %.c,$(B)/efi/%.o,$(EFI_SRCS)) $(B)/efi/boot/efi/payload.o

$(B)/efi/%.o: %.c | efi-check
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@gcc $(EFI_CFLAGS) -MMD -MP -c $< -o $@
# The kernel travels without its debug sections (om-node-debug.elf has them).
$(B)/efi/om-node.payload: $(B)/om-node.elf
	@mkdir -p $(dir $@)
	@objcopy --strip-debug $< $@
$(B)/efi/boot/efi/payload.o: boot/efi/payload.S $(B)/efi/om-node.payload
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@gcc -c -DOM_PAYLOAD='"$(B)/efi/om-node.payload"' $< -o $@
$(B)/efi/om-node.so: $(EFI_OBJS)
	@echo "  LD      $@"
	@ld $(EFI_LDFLAGS) $(EFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) -o $@ \
		-L$(EFI_LIB) -lefi -lgnuefi $$(gcc -print-libgcc-file-name)
$(B)/om-node.efi: $(B)/efi/om-node.so
	@echo "  EFI     $@"
	@objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

.PHONY: efi-check
efi-check:
	@test -f $(EFI_LIB)/crt0-efi-x86_64.o -a -f $(EFI_INC)/efi.h || \
		{ echo "gnu-efi is not installed: run 'make setup'"; exit 1; }

-include $(shell find $(B)/efi -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- server tools
# server-agent/ has one folder per part (README.md, "Layout"). A program is
# built from the folders it uses, and each folder is compiled seeing only the
# headers it may use, so the dependencies run one way and a wrong include
# fails to compile:
#   tools/  -> deputy/, ctl/   the mains of om-run, om-mon, om-migrate, om-ctl, om-checkpoint
#   agent/  -> ctl/            om-agent (from ctl/: where the socket is, who answers)
#   deputy/                    ptrace start, capture, inject, restore, the remote run
#   ctl/                       the tools' client of the agent's control socket
# and every part -> migrate/ (the wire protocol, shared with the node).
SA := server-agent
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration -Imigrate
# BearSSL (libbearssl-dev), linked in statically: the server needs no
# library of its own at run time.
HOST_LIBS := -l:libbearssl.a
MIGRATE_SRCS := $(wildcard migrate/*.c)
AGENT_SRCS := $(wildcard $(SA)/agent/*.c)
DEPUTY_SRCS := $(wildcard $(SA)/deputy/*.c)
CTL_SRCS := $(wildcard $(SA)/ctl/*.c)
AGENT_INC := -I$(SA)/agent -I$(SA)/ctl
DEPUTY_INC := -I$(SA)/deputy
CTL_INC := -I$(SA)/ctl
TOOLS_INC := -I$(SA)/deputy -I$(SA)/ctl

# Each program's sources: its main, then the folders it uses.
OM_AGENT_SRCS := $(AGENT_SRCS) $(CTL_SRCS) $(MIGRATE_SRCS)
OM_RUN_SRCS := $(SA)/tools/om-run.c $(DEPUTY_SRCS) $(CTL_SRCS) $(MIGRATE_SRCS)
OM_MON_SRCS := $(SA)/tools/om-mon.c $(CTL_SRCS) $(MIGRATE_SRCS)
OM_MIGRATE_SRCS := $(SA)/tools/om-migrate.c $(CTL_SRCS) $(MIGRATE_SRCS)
OM_CTL_SRCS := $(SA)/tools/om-ctl.c $(CTL_SRCS) $(MIGRATE_SRCS)
OM_CHECKPOINT_SRCS := $(SA)/tools/om-checkpoint.c $(DEPUTY_SRCS) $(CTL_SRCS) $(MIGRATE_SRCS)
host_objs = $(patsubst %.c,$(B)/host/%.o,$(1))

$(B)/host/$(SA)/agent/%.o: FOLDER_INC := $(AGENT_INC)
$(B)/host/$(SA)/deputy/%.o: FOLDER_INC := $(DEPUTY_INC)
$(B)/host/$(SA)/ctl/%.o: FOLDER_INC := $(CTL_INC)
$(B)/host/$(SA)/tools/%.o: FOLDER_INC := $(TOOLS_INC)
$(B)/host/%.o: %.c
	@mkdir -p $(dir $@)
	gcc $(HOST_CFLAGS) $(FOLDER_INC) -MMD -MP -c $< -o $@

$(B)/om-agent: $(call host_objs,$(OM_AGENT_SRCS))
	gcc -o $@ $^ $(HOST_LIBS)
$(B)/om-run: $(call host_objs,$(OM_RUN_SRCS))
	gcc -o $@ $^ $(HOST_LIBS)
$(B)/om-mon: $(call host_objs,$(OM_MON_SRCS))
	gcc -o $@ $^ $(HOST_LIBS)
$(B)/om-migrate: $(call host_objs,$(OM_MIGRATE_SRCS))
	gcc -o $@ $^ $(HOST_LIBS)
$(B)/om-ctl: $(call host_objs,$(OM_CTL_SRCS))
	gcc -o $@ $^ $(HOST_LIBS)
# om-checkpoint: the deputy's capture / inject / restore without om-run.
$(B)/om-checkpoint: $(call host_objs,$(OM_CHECKPOINT_SRCS))
	gcc -o $@ $^ $(HOST_LIBS)

# Unit tests: C tests and sanitizer builds of the tools go to build/tests/.
# test_agent.py runs against the real binaries, then again against the
# sanitized ones so hostile input that corrupts memory fails loudly.
TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror=implicit-function-declaration -Imigrate \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS := $(B)/tests/test_proto $(B)/tests/test_frame_rx $(B)/tests/test_job_msg
UNIT_TESTS += $(B)/tests/test_image
UNIT_TESTS += $(B)/tests/test_syscall_table $(B)/tests/test_syscall_codec
UNIT_TESTS += $(B)/tests/test_cmdline $(B)/tests/test_node_handlers $(B)/tests/test_acpi_madt
UNIT_TESTS += $(B)/tests/test_deputy_ptrace $(B)/tests/test_balance $(B)/tests/test_link
UNIT_TESTS += $(B)/tests/test_call_limits $(B)/tests/test_ckpt_merge
HDRS := $(wildcard migrate/*.h $(SA)/*/*.h tests/*.h)

$(B)/tests/test_%: tests/test_%.c $(MIGRATE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) -o $@ $< $(MIGRATE_SRCS) $(HOST_LIBS)
# The deputy's ptrace parts, against real processes.
$(B)/tests/test_deputy_ptrace: tests/test_deputy_ptrace.c $(DEPUTY_SRCS) $(MIGRATE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) $(DEPUTY_INC) -o $@ $< $(DEPUTY_SRCS) $(MIGRATE_SRCS) $(HOST_LIBS)
# What a node may ask of the deputy: the rules, and a real process tree.
$(B)/tests/test_call_limits: tests/test_call_limits.c $(DEPUTY_SRCS) $(MIGRATE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) $(DEPUTY_INC) -o $@ $< $(DEPUTY_SRCS) $(MIGRATE_SRCS) $(HOST_LIBS)
# A checkpoint of what changed made whole against its base file.
$(B)/tests/test_ckpt_merge: tests/test_ckpt_merge.c $(SA)/deputy/ckpt_merge.c $(MIGRATE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) $(DEPUTY_INC) -o $@ $< $(SA)/deputy/ckpt_merge.c $(MIGRATE_SRCS) $(HOST_LIBS)
# The agent's balancer decision, pure logic.
$(B)/tests/test_balance: tests/test_balance.c $(SA)/agent/balance.c $(SA)/agent/balance.h tests/check.h
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) -I$(SA)/agent -o $@ tests/test_balance.c $(SA)/agent/balance.c
# The node's command-line parser, built for the host.
$(B)/tests/test_cmdline: tests/test_cmdline.c kernel/cmdline.c kernel/cmdline.h migrate/hexkey.c
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) -Ikernel -Idrivers -Inet -Imigrate -o $@ tests/test_cmdline.c kernel/cmdline.c migrate/hexkey.c
# The node's MADT parser, built for the host.
$(B)/tests/test_acpi_madt: tests/test_acpi_madt.c kernel/acpi_madt.c kernel/acpi.h tests/check.h
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) -Ikernel -o $@ tests/test_acpi_madt.c kernel/acpi_madt.c
$(B)/tests/test_syscall_table $(B)/tests/test_syscall_codec: migrate/syscalls.def tests/gen_syscalls_md.c
# It reads the node image's symbols: the image is built first.
$(B)/tests/test_node_handlers: $(B)/om-node-debug.elf
# docs/syscalls.md is generated from the table; test_syscall_table checks it.
$(B)/gen_syscalls_md: tests/gen_syscalls_md.c $(MIGRATE_SRCS) $(HDRS) migrate/syscalls.def
	gcc $(HOST_CFLAGS) -o $@ tests/gen_syscalls_md.c $(MIGRATE_SRCS) $(HOST_LIBS)
docs/syscalls.md: $(B)/gen_syscalls_md
	$(B)/gen_syscalls_md > $@.tmp && mv $@.tmp $@
$(B)/tests/om-agent: $(OM_AGENT_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) $(AGENT_INC) -o $@ $(OM_AGENT_SRCS) $(HOST_LIBS)
$(B)/tests/om-mon: $(OM_MON_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) $(TOOLS_INC) -o $@ $(OM_MON_SRCS) $(HOST_LIBS)
$(B)/tests/om-checkpoint: $(OM_CHECKPOINT_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(TEST_CFLAGS) $(TOOLS_INC) -o $@ $(OM_CHECKPOINT_SRCS) $(HOST_LIBS)

# Programs test_capture.py runs natively and through om-checkpoint --roundtrip.
CAPTURE_PROGS := $(addprefix $(B)/tests/progs/,hello-static hello-static-pie hello-dynamic \
	hello-musl xmm_entry)
PROG_CFLAGS := -O1 -g -Wall
$(B)/tests/progs/hello-static: tests/progs/hello.c
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -static -o $@ $<
$(B)/tests/progs/hello-static-pie: tests/progs/hello.c
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -static-pie -o $@ $<
$(B)/tests/progs/hello-dynamic: tests/progs/hello.c
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -o $@ $<
$(B)/tests/progs/hello-musl: tests/progs/hello.c
	@mkdir -p $(dir $@)
	musl-gcc $(PROG_CFLAGS) -static -o $@ $<
$(B)/tests/progs/xmm_entry: tests/progs/xmm_entry.c
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -static -nostdlib -fno-pie -no-pie -fno-stack-protector -o $@ $<
# The program tests/test_hostile_image.py sends out and gets back changed.
$(B)/tests/progs/comeback: tests/progs/comeback.c
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -static -nostdlib -fno-pie -no-pie -o $@ $<
# An OpenMP program (libgomp, Debian's) for qemu-tests/test_threads.py.
$(B)/tests/progs/omp-sum: tests/progs/omp_sum.c
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -fopenmp -o $@ $<
# A program that reaches outside its job, for qemu-tests/test_deputy_limits.py.
$(B)/tests/progs/reach-out: tests/progs/reach_out.c tests/progs/show.h
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -static -o $@ $<
# What a confined job reaches, for qemu-tests/test_confine.py.
$(B)/tests/progs/confine-probe: tests/progs/confine_probe.c tests/progs/show.h
	@mkdir -p $(dir $@)
	gcc $(PROG_CFLAGS) -static -o $@ $<

unit-test: $(UNIT_TESTS) $(B)/om-agent $(B)/om-mon $(B)/om-run $(B)/om-migrate $(B)/om-ctl $(B)/tests/om-agent $(B)/tests/om-mon
unit-test: $(B)/om-checkpoint $(B)/tests/om-checkpoint $(CAPTURE_PROGS) $(B)/tests/progs/comeback
	@# Side by side (tests/run_units.py): they mostly wait, and one after
	@# the other they took six minutes. The agent's suites measure CPU use
	@# (the balancer's tests): they run alone ('!'), after the rest.
	@ASAN_ENV="OM_AGENT=$(B)/tests/om-agent OM_MON=$(B)/tests/om-mon OM_TEST_PREFIX=asan/"; \
	python3 tests/run_units.py \
		$(B)/tests/test_deputy_ptrace \
		"python3 tests/test_om_run.py" \
		"python3 tests/test_capture.py" \
		"python3 tests/test_hostile_node.py" \
		"python3 tests/test_confine.py" \
		"python3 tests/test_hostile_image.py" \
		$(filter-out $(B)/tests/test_deputy_ptrace,$(UNIT_TESTS)) \
		"python3 tests/test_drain.py" \
		"python3 tests/test_admit.py" \
		"python3 tests/test_claims.py" \
		"$$ASAN_ENV python3 tests/test_drain.py" \
		"$$ASAN_ENV python3 tests/test_admit.py" \
		"$$ASAN_ENV python3 tests/test_claims.py" \
		"python3 tests/test_man.py" \
		"$(MAKE) -s --no-print-directory fuzz-check" \
		"!python3 tests/test_agent.py" \
		"!$$ASAN_ENV python3 tests/test_agent.py"

# setup-done: the build needs setup's outputs but must not re-run apt each time.
.PHONY: setup-done
setup-done:
	@test -f $(NEWLIB)/lib/libc.a -a -f $(LWIP)/.ok || { echo "run 'make setup' first"; exit 1; }

-include $(shell find $(B)/node $(B)/host -name '*.d' 2>/dev/null)

# ---- om-run corpus
# Small programs qemu-tests/test_corpus.py runs natively and through om-run,
# each built three ways: static glibc, static musl, dynamic glibc.
CORPUS_NAMES := $(patsubst tests/corpus/%.c,%,$(wildcard tests/corpus/*.c))
CORPUS_CFLAGS := -O1 -g -Wall
CORPUS := $(foreach k,static musl dynamic,$(addprefix $(B)/corpus/$(k)/,$(CORPUS_NAMES)))
.PHONY: corpus
corpus: $(CORPUS)
$(B)/corpus/static/%: tests/corpus/%.c tests/corpus/show.h
	@mkdir -p $(dir $@)
	gcc $(CORPUS_CFLAGS) -static -o $@ $< -lm
$(B)/corpus/musl/%: tests/corpus/%.c tests/corpus/show.h
	@mkdir -p $(dir $@)
	musl-gcc $(CORPUS_CFLAGS) -static -o $@ $< -lm
$(B)/corpus/dynamic/%: tests/corpus/%.c tests/corpus/show.h
	@mkdir -p $(dir $@)
	gcc $(CORPUS_CFLAGS) -o $@ $< -lm

# ---------------------------------------------------------------- install
# `make install` puts the server tools, the node images and the boot menu in
# place (docs/pxe.md). Everything lands under $(DESTDIR) when it is set.
#   PREFIX          tools, man pages, docs, examples (default /usr/local)
#   TFTPDIR         om.ipxe, node images, iPXE      (default /srv/tftp)
#   OM_SERVER       agent address for the menu      (default: the TFTP server)
#   OM_AGENT_PORT   agent TCP port                  (default 7707)
#   OM_MENU_DEFAULT om | disk | lab | shell | exit  (default om)
#   OM_MENU_TIMEOUT menu timeout in ms, 0 = wait    (default 5000)
#   OM_LAB_MENU     the lab's usual iPXE script     (default none)
#   OM_LAB_SUBNET, OM_LAB_NETMASK  for the dnsmasq example (192.168.1.0/24)
# The filled dnsmasq and LTSP files are examples in $(PREFIX)/share/om: they
# change how the lab boots, so an admin enables them (docs/pxe.md, ltsp.md).
DESTDIR ?=
PREFIX ?= /usr/local
TFTPDIR ?= /srv/tftp
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
OM_SERVER ?=
OM_AGENT_PORT ?= 7707
OM_MENU_DEFAULT ?= om
OM_MENU_TIMEOUT ?= 5000
OM_LAB_MENU ?=
OM_LAB_SUBNET ?= 192.168.1.0
OM_LAB_NETMASK ?= 255.255.255.0
IPXE_DIR ?= /usr/lib/ipxe

BINDIR := $(PREFIX)/bin
SBINDIR := $(PREFIX)/sbin
SHAREDIR := $(PREFIX)/share/om
DOCDIR := $(PREFIX)/share/doc/om
MANDIR := $(PREFIX)/share/man
# The users' tools, each with its page docs/man/TOOL.1; om-agent has
# om-agent.8.
USER_TOOLS := om-run om-mon om-migrate om-ctl om-checkpoint
INSTALL_EFI := $(wildcard $(B)/om-node.efi)
IPXE_BINS := $(wildcard $(addprefix $(IPXE_DIR)/,undionly.kpxe snponly.efi ipxe.efi))
# One sed script fills every template; '|' delimits, so values may hold '/'.
FILL := sed -e 's|@OM_SERVER@|$(OM_SERVER)|g' -e 's|@OM_AGENT_PORT@|$(OM_AGENT_PORT)|g' \
	-e 's|@OM_MENU_DEFAULT@|$(OM_MENU_DEFAULT)|g' -e 's|@OM_MENU_TIMEOUT@|$(OM_MENU_TIMEOUT)|g' \
	-e 's|@OM_LAB_MENU@|$(OM_LAB_MENU)|g' -e 's|@OM_TFTPDIR@|$(TFTPDIR)|g' \
	-e 's|@OM_LAB_SUBNET@|$(OM_LAB_SUBNET)|g' -e 's|@OM_LAB_NETMASK@|$(OM_LAB_NETMASK)|g' \
	-e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@SHAREDIR@|$(SHAREDIR)|g'

.PHONY: install install-check
install-check:
	@case "$(OM_MENU_DEFAULT)" in om|disk|lab|shell|exit) ;; \
		*) echo "install: OM_MENU_DEFAULT must be om, disk, lab, shell or exit, not '$(OM_MENU_DEFAULT)'"; exit 1;; esac
	@case "$(OM_MENU_DEFAULT)" in lab) test -n "$(OM_LAB_MENU)" || \
		{ echo "install: OM_MENU_DEFAULT=lab needs OM_LAB_MENU"; exit 1; };; esac
	@echo "$(OM_MENU_TIMEOUT)" | grep -qE '^[0-9]+$$' || \
		{ echo "install: OM_MENU_TIMEOUT is milliseconds, not '$(OM_MENU_TIMEOUT)'"; exit 1; }
	@echo "$(OM_AGENT_PORT)" | grep -qE '^[0-9]+$$' || \
		{ echo "install: OM_AGENT_PORT is a port number, not '$(OM_AGENT_PORT)'"; exit 1; }
	@test -z "$(OM_SERVER)" || echo "$(OM_SERVER)" | grep -qE '^[0-9]+(\.[0-9]+){3}$$' || \
		{ echo "install: OM_SERVER is an IPv4 address (the node has no DNS), not '$(OM_SERVER)'"; exit 1; }

install: install-check $(B)/om-agent $(addprefix $(B)/,$(USER_TOOLS)) $(B)/om-node.elf $(INSTALL_EFI)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(TFTPDIR) \
		$(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/om \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/om-agent $(DESTDIR)$(SBINDIR)/om-agent
	install -m 755 $(addprefix $(B)/,$(USER_TOOLS)) $(DESTDIR)$(BINDIR)/
	install -m 644 $(USER_TOOLS:%=docs/man/%.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/man/om-agent.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(B)/om-node.elf $(INSTALL_EFI) $(DESTDIR)$(TFTPDIR)/
	@# The agent's link key: made once on the machine installed to, kept
	@# across reinstalls; the menu carries its public half (om.key=). A
	@# staged install (DESTDIR) makes none, so that no two sites share a
	@# key from one package: it uses the one it finds there, else the menu
	@# gets none and the admin finishes on the server (docs/security.md).
	test -n "$(DESTDIR)" || test -e $(SYSCONFDIR)/om/agent.key || \
		$(B)/om-agent --genkey $(SYSCONFDIR)/om/agent.key >/dev/null
	@# The unit runs the agent as user om, which must own the key.
	test -n "$(DESTDIR)" || id om >/dev/null 2>&1 || \
		useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin om
	test -n "$(DESTDIR)" || chown om:om $(SYSCONFDIR)/om/agent.key
	key=; if test -e $(DESTDIR)$(SYSCONFDIR)/om/agent.key; then \
		key=$$($(B)/om-agent --pubkey --config /dev/null --key $(DESTDIR)$(SYSCONFDIR)/om/agent.key) || exit 1; \
	else echo "install: no $(DESTDIR)$(SYSCONFDIR)/om/agent.key (a staged install makes none): on the server," \
		"run om-agent --genkey $(SYSCONFDIR)/om/agent.key, then make install again"; fi; \
		$(FILL) -e "s|@OM_AGENT_KEY@|$$key|g" boot/om.ipxe > $(DESTDIR)$(TFTPDIR)/om.ipxe.tmp
	chmod 644 $(DESTDIR)$(TFTPDIR)/om.ipxe.tmp && mv $(DESTDIR)$(TFTPDIR)/om.ipxe.tmp $(DESTDIR)$(TFTPDIR)/om.ipxe
	$(if $(IPXE_BINS),install -m 644 $(IPXE_BINS) $(DESTDIR)$(TFTPDIR)/,@echo "install: no iPXE binaries in $(IPXE_DIR) (package ipxe); dnsmasq's PXE chain needs them")
	$(FILL) $(SA)/agent/om-agent.service > $(DESTDIR)$(UNITDIR)/om-agent.service
	chmod 644 $(DESTDIR)$(UNITDIR)/om-agent.service
	@# The admin's settings survive a reinstall; the example is always current.
	test -e $(DESTDIR)$(SYSCONFDIR)/om/agent.conf || \
		install -m 644 $(SA)/agent/agent.conf $(DESTDIR)$(SYSCONFDIR)/om/agent.conf
	install -m 644 $(SA)/agent/agent.conf $(DESTDIR)$(SHAREDIR)/agent.conf.example
	$(FILL) boot/dnsmasq/om.conf > $(DESTDIR)$(SHAREDIR)/dnsmasq-om.conf
	install -m 755 boot/ltsp/om-ltsp-ipxe $(DESTDIR)$(SHAREDIR)/om-ltsp-ipxe
	chmod 644 $(DESTDIR)$(SHAREDIR)/dnsmasq-om.conf
	install -m 644 $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/
	@echo "install: done. Menu: $(TFTPDIR)/om.ipxe (agent $(if $(OM_SERVER),$(OM_SERVER),<TFTP server>):$(OM_AGENT_PORT)," \
		"default $(OM_MENU_DEFAULT), $(OM_MENU_TIMEOUT) ms); next: docs/pxe.md"

# ---------------------------------------------------------------- test, demo
test: setup
	@$(MAKE) --no-print-directory all corpus $(B)/demo-primes $(B)/tests/progs/omp-sum $(B)/tests/progs/reach-out $(B)/tests/progs/confine-probe
	@python3 qemu-tests/suite.py

qemu-test: all corpus $(B)/demo-primes $(B)/tests/progs/omp-sum $(B)/tests/progs/reach-out $(B)/tests/progs/confine-probe
	@python3 qemu-tests/suite.py --qemu-only

demo: setup
	@$(MAKE) --no-print-directory all $(B)/demo-primes
	@python3 qemu-tests/demo.py

$(B)/demo-primes: qemu-tests/demo/primes.c
	gcc -O2 -static -o $@ $<

$(B)/bench-syscall-cost: bench/progs/syscall_cost.c
	gcc -O2 -static -o $@ $<

# Side-by-side measurements (bench/bench.py): om against a Linux guest under
# the same QEMU settings, against the link, against natively; writes
# bench/results/*.csv and the tables of docs/PERFORMANCE.md. Not part of make
# test, which runs only its smoke mode (qemu-tests/test_bench_smoke.py).
# OM_BENCH_RUNS=N: runs per figure (default 3).
BENCH_PROGS := $(addprefix $(B)/bench/,sieve nbody membw timeit simnode bigimage-1 balance_sim holdimage forkloop \
	parwork futexpp)
BENCH_BIG := $(addprefix $(B)/bench/bigimage-,16 128 512)
$(addprefix $(B)/bench/,sieve nbody membw timeit holdimage forkloop parwork futexpp): $(B)/bench/%: bench/progs/%.c \
		bench/progs/bench_clock.h
	@mkdir -p $(dir $@)
	gcc -O2 -static -Wall -Wextra -pthread -o $@ $< -lm
# MIB MiB of initialised .data: the 512 MiB one is a 512 MiB file.
$(B)/bench/bigimage-%: bench/progs/bigimage.c
	@mkdir -p $(dir $@)
	gcc -O2 -static -Wall -DMIB=$* -o $@ $<
$(B)/bench/simnode: bench/simnode.c $(MIGRATE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	gcc $(HOST_CFLAGS) -o $@ bench/simnode.c $(MIGRATE_SRCS) $(HOST_LIBS)
$(B)/bench/balance_sim: bench/balance_sim.c $(SA)/agent/balance.c $(SA)/agent/balance.h
	@mkdir -p $(dir $@)
	gcc $(HOST_CFLAGS) -I$(SA)/agent -o $@ bench/balance_sim.c $(SA)/agent/balance.c -lm
.PHONY: bench-progs
bench-progs: $(B)/bench-syscall-cost $(BENCH_PROGS)
bench: all $(B)/om-checkpoint bench-progs $(BENCH_BIG) bench-plain
	@python3 bench/bench.py

# The "crypto" section's other side: om-agent and the node image built
# with -DOM_BENCH_UNENCRYPTED_LINK (a real handshake, then records in
# clear: migrate/noise.c) into their own tree, by this Makefile run again
# with B pointing there and every object built anew with the define. Only
# make bench builds it; never all, test or install.
BENCH_PLAIN := $(B)/bench-plain
# Only from bench-plain's command line below, never from the environment.
ifeq ($(origin OM_BENCH_PLAIN_TREE),command line)
ifneq ($(notdir $(B)),bench-plain)
$(error OM_BENCH_PLAIN_TREE builds only into a tree named bench-plain, not $(B))
endif
NODE_CFLAGS += -DOM_BENCH_UNENCRYPTED_LINK
HOST_CFLAGS += -DOM_BENCH_UNENCRYPTED_LINK
# objcopy names the font's symbols after its path, '-' made '_' too.
FONT_SYM := _binary_$(subst -,_,$(subst /,_,$(subst .,_,$(B)/font/console.psf)))
endif
# The image's self-test blob is .incbin'd from build/ (kernel/selftest_blob.S):
# made here first, so that a parallel make does not race for it.
.PHONY: bench-plain
bench-plain: $(B)/selftest-user.elf
	@$(MAKE) --no-print-directory B=$(BENCH_PLAIN) TP=$(TP) OM_BENCH_PLAIN_TREE=1 \
		$(BENCH_PLAIN)/om-agent $(BENCH_PLAIN)/om-node.elf

FORCE:

clean:
	rm -rf $(B)/node $(B)/host $(B)/om-* $(B)/tests $(B)/efi $(B)/font $(B)/bench-plain

distclean:
	rm -rf $(B)

# libFuzzer harnesses of every parser of peer input (make fuzz, fuzz-check).
-include tests/fuzz/fuzz.mk
