# splq: build, test, demo, benchmark, fuzz.
#   make            build build/splq, build/splq-init and the in-qube helpers
#                   (build/qube/bin/splq-qube and its names)
#   make check      every test on the plain build, and again under ASan and
#                   UBSan (build-san/) the unit tests and the command-line
#                   tests of hostile input; installs missing Debian packages
#                   first
#   make demo       a short tour on a scratch SPLQ_HOME
#   make bench      splq beside bwrap, unshare, cp+sha256sum (hyperfine)
#   make bench-scale  commands with 1 and with 1,000 qubes running
#   make fuzz       libFuzzer targets for the parsers (clang)
#   make install    splq, splq-init, the in-qube helpers, the man pages,
#                   completion and splq-autostart.service under PREFIX
#   make check-kernels  command-line tests inside Debian 12's kernel under
#                   qemu, per cgroup layout (slow: not part of make check)
#   make check-package  the Debian package (debian/): built in a clone,
#                   linted, unpacked into a scratch root and checked

CC ?= cc
CFLAGS ?= -O2 -g
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS =
endif

WARN = -Wall -Wextra -Werror -Wno-unused-parameter
BASEFLAGS = -std=gnu11 -D_GNU_SOURCE -Isrc/lib $(WARN) $(CFLAGS)
LIBS = -lsqlite3 -lcrypto -ljansson -lseccomp -lcap
# splq itself is linked statically, glibc too (a static PIE): the dynamic
# loader's start and its lazy binding, and the copies of the pages they
# write in every process a start forks, cost a disposable a fifth of its
# time.  ld warns that SQLite's dlopen would need glibc's shared libraries
# at run time: it serves SQLite's loadable extensions, which splq never
# enables.  Under the sanitizers, whose runtimes need a shared glibc, only
# the libraries above are static.
ifeq ($(SANITIZE),1)
SPLQ_LIBS = -Wl,-Bstatic $(LIBS) -Wl,-Bdynamic -lm -lpthread -ldl
else
SPLQ_LIBS = -static-pie $(LIBS) -lm -lpthread
endif

LIB_SRC = $(wildcard src/lib/*.c src/lib/ops/*.c src/lib/native/*.c src/lib/native/net/*.c src/lib/policy/*.c src/lib/formats/*.c src/lib/qrexec/*.c src/lib/services/*.c)
CLI_SRC = $(wildcard src/cli/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC = $(wildcard fuzz/fuzz_*.c)

# The names splq-qube answers to (src/qube/main.c), symlinks beside it.
QUBE_PROGS = qrexec-client-vm qvm-copy qvm-copy-to-vm qvm-move qvm-move-to-vm qfile-agent \
	splq-remove qvm-connect-tcp splq-sign
# splq's own services, symlinks to ../bin/splq-qube in rpc/.
VAULT_RPC = splq.VaultInit splq.VaultUnlock splq.VaultLock splq.VaultStatus splq.VaultPasswd \
	splq.VaultRotate splq.VaultStore splq.VaultGet splq.VaultList splq.VaultDelete \
	splq.VaultKeygen splq.VaultPubkey splq.Sign
QUBE_RPC = qubes.Filecopy qubes.ConnectTCP $(VAULT_RPC)
QUBE_BIN = $(BUILD)/qube/bin
QUBE = $(QUBE_BIN)/splq-qube $(QUBE_PROGS:%=$(QUBE_BIN)/%) $(QUBE_RPC:%=$(BUILD)/qube/rpc/%)

all: $(BUILD)/splq $(BUILD)/splq-init $(BUILD)/splq-nft $(QUBE) $(BUILD)/man/splq.1

# The man pages: splq(1) and one per command or group, written by splq
# from its command table (splq help --man).
$(BUILD)/man/splq.1: $(BUILD)/splq
	@mkdir -p $(dir $@)
	rm -f $(BUILD)/man/*.1
	for p in $$($(BUILD)/splq help --man-pages); do \
	  $(BUILD)/splq help --man $$p >$(BUILD)/man/$$p.1 || exit 1; \
	done

# Applies nftables batches in a network qube's namespace: libnftables is
# a shared library only (src/nft/main.c).
$(BUILD)/splq-nft: src/nft/main.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -o $@ $< -lnftables

$(BUILD)/%.o: %.c $(wildcard src/lib/*.h src/lib/ops/*.h src/lib/native/*.h src/lib/native/net/*.h src/lib/policy/*.h src/lib/formats/*.h src/lib/qrexec/*.h src/lib/services/*.h src/cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -c -o $@ $<

$(BUILD)/libsplq.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/splq: $(CLI_OBJ) $(BUILD)/libsplq.a
	$(CC) $(SANFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsplq.a $(SPLQ_LIBS)

# The in-qube init and the supervisor: static, small, no sanitizer (it
# runs inside qubes, where the sanitizer runtime has nothing to write to).
INIT_SRC = src/init/init.c src/init/initlog.c src/lib/native/supervise.c src/lib/native/cgroup.c \
	src/lib/native/cgroup_layout.c src/lib/native/qubelog.c src/lib/native/oom.c src/lib/util.c \
	src/lib/tree.c src/lib/walk.c src/lib/native/net/plumb.c src/lib/native/net/netlink.c \
	src/lib/error.c
$(BUILD)/splq-init: $(INIT_SRC) $(wildcard src/lib/*.h src/lib/native/*.h src/init/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -Isrc/lib $(WARN) -Os -static -o $@ $(INIT_SRC)

# The helpers every qube sees read-only at /run/splq/lib: bin/ (on its
# PATH) and rpc/ (splq's own services).  Static and small like splq-init,
# no sanitizer, only the few library files they use; sections nobody
# calls are dropped.
QUBE_SRC = $(filter-out src/qube/main.c,$(wildcard src/qube/*.c))
# SHA-256 for verified copies, and the vault's cryptography, are
# libcrypto's, linked in statically.
QUBE_LIB_SRC = src/lib/qrexec/wire.c src/lib/util.c src/lib/error.c src/lib/tree.c src/lib/walk.c \
	$(wildcard src/lib/formats/qfile*.c) src/lib/crypto.c src/lib/formats/vault.c \
	src/lib/formats/minisign.c
$(QUBE_BIN)/splq-qube: src/qube/main.c $(QUBE_SRC) $(QUBE_LIB_SRC) $(wildcard src/qube/*.h src/lib/*.h src/lib/qrexec/*.h src/lib/formats/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -Isrc/lib $(WARN) -Os -static -ffunction-sections \
	  -fdata-sections -Wl,--gc-sections -o $@ src/qube/main.c $(QUBE_SRC) $(QUBE_LIB_SRC) \
	  -lcrypto -lpthread

$(QUBE_PROGS:%=$(QUBE_BIN)/%): $(QUBE_BIN)/splq-qube
	ln -sfn splq-qube $@

$(QUBE_RPC:%=$(BUILD)/qube/rpc/%): $(QUBE_BIN)/splq-qube
	@mkdir -p $(dir $@)
	ln -sfn ../bin/splq-qube $@

# The tests of the in-qube helpers (the client's runs it in-process,
# forked) link their sources, built as the tests are (with the sanitizers
# in build-san).
QUBE_UNIT = $(BUILD)/tests/test_qube_client $(BUILD)/tests/test_qube_tcp
$(QUBE_UNIT): $(BUILD)/tests/%: tests/unit/%.c tests/unit/qx_host.h $(QUBE_SRC) $(wildcard src/qube/*.h) $(BUILD)/libsplq.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Isrc -o $@ $< $(QUBE_SRC) $(BUILD)/libsplq.a $(LIBS) -lcmocka -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsplq.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libsplq.a $(LIBS) -lcmocka -lpthread

deps:
	scripts/deps.sh

# A test-only driver for checks against Qubes' own qfile tools (never installed).
$(BUILD)/tests/qfile_tool: tests/tools/qfile_tool.c $(BUILD)/libsplq.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libsplq.a $(LIBS)

unit: $(UNIT_BIN) $(BUILD)/tests/qfile_tool

# Every test on the plain build; under ASan and UBSan, every unit test and
# the command-line tests of what users and qubes hand splq (run-all.sh).
check: deps
	$(MAKE) all unit
	$(MAKE) SANITIZE=1 all unit
	tests/run-all.sh build build-san

# Not part of check: each layout is a boot under emulation (tests/kernels/run.sh).
check-kernels: deps
	scripts/deps.sh kernels
	$(MAKE) all
	BUILD=$(BUILD) tests/kernels/run.sh

# Not part of check: a whole package build, in a temporary clone of the
# committed tree (tests/package.sh); the work tree and build/ stay as
# they are.
check-package:
	scripts/deps.sh package
	tests/package.sh

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) scripts/demo.sh

bench: deps
	$(MAKE) all $(BUILD)/bench/vault_speed
	BUILD=$(BUILD) bench/bench.sh

bench-scale: deps
	$(MAKE) all
	BUILD=$(BUILD) bench/scale.sh

# The vault's encryption on its own, for bench.sh.
$(BUILD)/bench/vault_speed: bench/vault_speed.c $(BUILD)/libsplq.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -o $@ $< $(BUILD)/libsplq.a $(LIBS) -lpthread

fuzz: deps
	@mkdir -p build-fuzz
	for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  clang -std=gnu11 -D_GNU_SOURCE -Isrc/lib -g -O1 -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f $(filter-out src/lib/native/% src/lib/ops/%,$(LIB_SRC)) $(LIBS) || exit 1; \
	done
	fuzz/run.sh

# Install splq, its in-qube init and helpers, and the boot unit for
# autostart qubes.
PREFIX ?= /usr/local
DESTDIR ?=
install: all
	install -D -m 0755 $(BUILD)/splq $(DESTDIR)$(PREFIX)/bin/splq
	install -D -m 0755 $(BUILD)/splq-init $(DESTDIR)$(PREFIX)/libexec/splq/splq-init
	install -D -m 0755 $(BUILD)/splq-nft $(DESTDIR)$(PREFIX)/libexec/splq/splq-nft
	install -D -m 0755 $(QUBE_BIN)/splq-qube $(DESTDIR)$(PREFIX)/libexec/splq/qube/bin/splq-qube
	for p in $(QUBE_PROGS); do \
	  ln -sfn splq-qube $(DESTDIR)$(PREFIX)/libexec/splq/qube/bin/$$p || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/libexec/splq/qube/rpc
	for p in $(QUBE_RPC); do \
	  ln -sfn ../bin/splq-qube $(DESTDIR)$(PREFIX)/libexec/splq/qube/rpc/$$p || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	$(BUILD)/splq help --completion bash >$(DESTDIR)$(PREFIX)/share/bash-completion/completions/splq
	$(BUILD)/splq help --completion zsh >$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_splq
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@BINDIR@|$(PREFIX)/bin|' contrib/systemd/splq-autostart.service \
	  >$(DESTDIR)$(PREFIX)/lib/systemd/system/splq-autostart.service

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(wildcard src/init/*.c src/init/*.h src/qube/*.c src/qube/*.h) $(wildcard src/lib/*.h src/lib/ops/*.h src/lib/native/*.h src/lib/policy/*.h src/lib/formats/*.h src/lib/qrexec/*.h src/lib/services/*.h src/cli/*.h) $(UNIT_SRC) $(wildcard tests/tools/*.c) $(FUZZ_SRC)

clean:
	rm -rf build build-san build-fuzz

.PHONY: all deps unit check check-kernels check-package demo bench bench-scale fuzz install format clean
