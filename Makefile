# pat - Personal Access Tokens for Linux.
#   make            build patd, patctl, pam_pat.so and libpat (libpat.so.1,
#                   libpat_pic.a, pat.pc) into build/
#   make test       build and run the whole test suite (Criterion) and the
#                   system test (tests/system: the .debs under a real
#                   systemd), then check that they left no process or
#                   temporary file behind
#   make test-hygiene  show that a failing test leaves nothing behind
#   make demo       show the main job end to end on a private socket
#   make mutants    break each security check once; the tests must notice
#   make deb        the Debian packages (dpkg-buildpackage), into build/deb/
#   make install    DESTDIR= PREFIX= ;  make clean
#                   (then systemd-sysusers creates the patd-verify group)
# Each target first runs scripts/deps.sh, which installs missing Debian
# packages when root and prints the apt-get line otherwise.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
DOCDIR	?= $(PREFIX)/share/doc/pat
UNITDIR	?= $(PREFIX)/lib/systemd/system
MANDIR	?= $(PREFIX)/share/man
# fleet mode's directory files and systemd drop-in (docs/fleet.md)
PATSHAREDIR ?= $(PREFIX)/share/pat
# systemd-sysusers reads /usr/lib/sysusers.d and /usr/local/lib/sysusers.d:
# the entry follows PREFIX, as the units do
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# bash-completion (2.x) also looks under $XDG_DATA_DIRS, which holds
# /usr/local/share by default: the completion follows PREFIX
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# PAM finds modules by bare name only in its own directory, whatever PREFIX
PAMDIR	?= $(shell $(PKG_CONFIG) --variable=libdir pam 2>/dev/null || echo /lib)/security
PAMCONFDIR ?= /usr/share/pam-configs
PKG_CONFIG ?= pkg-config

CC	?= cc
CFLAGS	?= -O2 -g
LDFLAGS	?=
# the one version: debian/changelog's first entry (make deb builds it)
# (awk: make counts the parentheses a sed pattern would need)
PAT_VERSION := $(shell awk 'NR == 1 { gsub(/[^0-9A-Za-z.+~:-]/, " "); \
	     v = $$2; sub(/-[^-]*$$/, "", v); print v; exit }' debian/changelog)
# scripts/deps.sh, which installs missing packages; debian/rules sets DEPS=true
DEPS	?= scripts/deps.sh
WARN	 = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wvla
CPPFLAGS_ALL = -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -Icommon \
	   -DPAT_VERSION='"$(PAT_VERSION)"' $(CPPFLAGS)
CFLAGS_ALL = -std=c11 $(WARN) -fPIC -fstack-protector-strong $(CFLAGS)

B	 = build
# make V=1 shows full command lines
Q	 = $(if $(V),,@)
PKGS	 = libsodium lmdb libsystemd pam
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# patd's fleet mode (patd/fleet.c): libldap, in a thread of its own
LDAP_LIBS = -lldap -llber -lpthread

COMMON_SRC = $(wildcard common/*.c)
PATD_SRC   = $(filter-out patd/main.c,$(wildcard patd/*.c))
PATCTL_SRC = $(wildcard patctl/*.c)
PAM_SRC    = $(wildcard pam_pat/*.c)
# the parts of common/ the module needs besides libpat (libpat_pic.a: the
# client side)
PAM_COMMON = common/token.c common/perm.c common/names.c
TEST_SRC   = $(wildcard tests/*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/obj/%.o)
PATD_OBJ   = $(PATD_SRC:%.c=$(B)/obj/%.o)
PATCTL_OBJ = $(PATCTL_SRC:%.c=$(B)/obj/%.o)
PAM_OBJ    = $(PAM_SRC:%.c=$(B)/obj/%.o) $(PAM_COMMON:%.c=$(B)/obj/%.o)
TEST_OBJ   = $(TEST_SRC:%.c=$(B)/obj/%.o)

PROGS	 = $(B)/patd $(B)/patctl $(B)/pam_pat.so $(LIBPAT)
PAM_LDFLAGS = -shared -Wl,--version-script=pam_pat/pam_pat.map -Wl,-z,defs \
	      -Wl,-z,relro,-z,now
# no libsodium in host processes: wiping is glibc's explicit_bzero
PAM_LIBS = -lpam
TOOLS	 = $(B)/tests/pamcall $(B)/tests/sockact $(B)/asan/pam_pat.so

.PHONY: all progs deps deps-test deps-demo test test-hygiene demo install uninstall \
	clean fuzz bench mutants deb test-system test-fleet fleet-demo
all: deps
	@$(MAKE) --no-print-directory $(PROGS)
# the programs alone, no dependency check (debian/rules)
progs: $(PROGS)

deps:
	@$(DEPS) build
deps-test:
	@$(DEPS) test
deps-demo:
	@$(DEPS) demo

$(B)/obj/%.o: %.c $(wildcard common/*.h patd/*.h patctl/*.h pam_pat/*.h tests/*.h)
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fvisibility=hidden $(PKG_CFLAGS) \
	    -Ipatd -Ipam_pat -Ipatctl -c -o $@ $<

$(B)/libpatcommon.a: $(COMMON_OBJ)
	@$(if $(V),:,echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

$(B)/patd: $(B)/obj/patd/main.o $(PATD_OBJ) $(B)/libpatcommon.a
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -pie -Wl,-z,relro,-z,now -o $@ $^ $(PKG_LIBS) $(LDAP_LIBS)

$(B)/patctl: $(PATCTL_OBJ) $(B)/libpatcommon.a
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -pie -Wl,-z,relro,-z,now -o $@ $^ $(PKG_LIBS)

# libpat linked in: only pam_sm_* leave the module (pam_pat.map)
$(B)/pam_pat.so: $(PAM_OBJ) $(B)/libpat_pic.a pam_pat/pam_pat.map
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) $(PAM_LDFLAGS) -o $@ $(PAM_OBJ) \
	    $(B)/libpat_pic.a $(PAM_LIBS)

# The same module built with AddressSanitizer, for the test suite: libpat's
# sources too (more prerequisites in the libpat block).
$(B)/asan/pam_pat.so: $(PAM_SRC) $(PAM_COMMON) $(wildcard pam_pat/*.h common/*.h)
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) -std=c11 $(WARN) -fPIC -g -O1 -fsanitize=address \
	    -fno-omit-frame-pointer -fvisibility=hidden -Ipam_pat -Ilibpat \
	    -Ilibpat/include $(PAM_LDFLAGS) -o $@ $(PAM_SRC) \
	    $(sort $(PAM_COMMON) $(LIBPAT_SRC) $(LIBPAT_COMMON)) $(PAM_LIBS)

# A small PAM application for the tests: real libpam, private config dir.
$(B)/tests/pamcall: tests/tools/pamcall.c
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< -lpam -ldl

$(B)/tests/sockact: tests/tools/sockact.c
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $<

# the tests also reach into patctl's escaping (tests/test_escape.c) and
# call libpat (tests/test_libpat.c)
$(B)/tests/run: $(TEST_OBJ) $(PATD_OBJ) $(B)/obj/patctl/escape.o \
    $(B)/libpatcommon.a $(B)/libpat_pic.a
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(LDAP_LIBS) -lcriterion -lcrypt

# libFuzzer targets (clang, ASan + UBSan).  make test runs each briefly;
# make fuzz runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 180
FUZZ_CC	 ?= clang
FUZZ_TARGETS = proto token perm jwt
FUZZ_BINS = $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
FUZZ_SRC_proto = common/proto.c common/buf.c
FUZZ_SRC_token = common/token.c common/token_secret.c
FUZZ_SRC_perm  = common/perm.c
FUZZ_SRC_jwt   = patd/jwt.c
$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c $(wildcard common/*.c common/*.h patd/jwt.*)
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -D_GNU_SOURCE -Icommon -Ipatd \
	    -o $@ $< $(FUZZ_SRC_$*) -lsodium

fuzz: deps-test
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(B)/fuzz/corpus-$$t; \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    $(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $(B)/fuzz/corpus-$$t fuzz/corpus/$$t 2>&1 | \
	        grep -E "stat::number_of_executed_units|ERROR|SUMMARY|Done" || exit 1; \
	done

# Benchmarks: each figure beside a baseline measured in the same run.
BENCH_BINS = $(B)/bench/floor $(B)/bench/drive $(B)/bench/load \
	     $(B)/bench/cold $(B)/bench/hash
$(B)/bench/floor $(B)/bench/cold: $(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $<
$(B)/bench/drive: bench/drive.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -pthread -o $@ $<
$(B)/bench/hash: bench/hash.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< -lcrypt
$(B)/bench/load: bench/load.c $(PATD_OBJ) $(B)/libpatcommon.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(PKG_CFLAGS) -Ipatd -o $@ $^ \
	    $(PKG_LIBS) $(LDAP_LIBS)

bench: deps-test
	@$(MAKE) --no-print-directory $(PROGS) $(B)/tests/pamcall $(BENCH_BINS)
	bench/run.sh $(CURDIR)/$(B)

# The suite runs the real binaries it was built with (PAT_BUILD).  Each run
# has a tag of its own (PAT_TEST_RUN) that its processes carry and its
# temporary names start with; afterwards tests/tools/leakcheck.sh fails the
# run if any of them remains.  TEST_ARGS go to the runner (--filter ...),
# unglobbed (set -f: --filter fleet/* must not become the files in fleet/).
# Each part's output is also kept in build/test-logs, and the run ends with
# tests/tools/summary.sh: which part failed and its failure lines, since CI
# keeps only the tail of the output.
TEST_RUN = $$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
test: deps-test
	@$(MAKE) --no-print-directory $(PROGS) $(TOOLS) $(B)/tests/run
	@command -v $(FUZZ_CC) >/dev/null && \
	    $(MAKE) --no-print-directory $(FUZZ_BINS) || \
	    echo "pat: $(FUZZ_CC) missing: fuzz smoke tests will be SKIPPED"
	@set -f; run=$(TEST_RUN); L=$(B)/test-logs; rm -rf $$L; mkdir -p $$L; \
	echo "PAT_TEST_RUN=$$run PAT_BUILD=$(CURDIR)/$(B) PAT_SRC=$(CURDIR)" \
	    "$(B)/tests/run --jobs 2 $(TEST_ARGS)"; \
	{ PAT_TEST_RUN=$$run PAT_BUILD=$(CURDIR)/$(B) PAT_SRC=$(CURDIR) \
	    $(B)/tests/run --jobs 2 $(TEST_ARGS); echo $$? >$$L/suite.rc; } 2>&1 | \
	    tee $$L/suite.log; rc=$$(cat $$L/suite.rc); sys=-; flt=-; \
	if [ -z "$(TEST_ARGS)" ]; then \
	    { PAT_TEST_RUN=$$run tests/system/run.sh; echo $$? >$$L/system.rc; } 2>&1 | \
	        tee $$L/system.log; sys=$$(cat $$L/system.rc); \
	    [ $$sys -eq 0 ] || [ $$sys -eq 77 ] || rc=$$sys; \
	    { PAT_TEST_RUN=$$run tests/fleet/test.sh; echo $$? >$$L/fleet.rc; } 2>&1 | \
	        tee $$L/fleet.log; flt=$$(cat $$L/fleet.rc); \
	    [ $$flt -eq 0 ] || [ $$flt -eq 77 ] || rc=$$flt; \
	fi; \
	tests/tools/leakcheck.sh $$run || { [ $$rc -ne 0 ] || rc=3; }; \
	tests/tools/summary.sh $$L $$(cat $$L/suite.rc) $$sys $$flt $$rc; \
	exit $$rc

# The Debian packages under a real systemd (tests/system, issue 15): make
# test runs it after the suite (not with TEST_ARGS); this runs it alone.
# Skipped (exit 77, said loudly) when not root or the container cannot be
# made here.  PAT_SYSTEST_CACHE= shares the cached root filesystem.
test-system: deps-test
	tests/system/run.sh; rc=$$?; [ $$rc -eq 77 ] && rc=0; exit $$rc

# pat's LDAP schema and the directory's "who may mint" ACLs against a real
# slapd (tests/fleet, issue 16; about a second): make test runs it after the
# suite (not with TEST_ARGS); this runs it alone.  Skipped (exit 77, said
# loudly) when not root or slapd / ldap-utils are missing.
test-fleet: deps-test
	tests/fleet/test.sh; rc=$$?; [ $$rc -eq 77 ] && rc=0; exit $$rc

# A failing test leaves nothing behind (issue 17): tests made to fail or
# crash on purpose once their helpers run, each run then leak-checked; and
# the same with the harness's clean-up off, which the leak check must catch.
test-hygiene: deps-test
	@$(MAKE) --no-print-directory $(PROGS) $(TOOLS) $(B)/tests/run
	tests/tools/hygiene.sh $(CURDIR)/$(B)

# Each security check broken once (mutants/*.mutant): the tests must catch
# every one.  On demand and before a release; not part of make test.
# MUTANTS=name-part limits the run.
mutants: deps-test
	scripts/mutants.py $(MUTANTS)

demo: deps-demo
	@$(MAKE) --no-print-directory $(PROGS)
	scripts/demo.sh $(B)

# fleet mode (issue 16): a real slapd and three patd hosts, as root
fleet-demo: deps-test
	@$(MAKE) --no-print-directory $(PROGS)
	scripts/fleet-demo.sh $(B)

# a manual page, with debian/changelog's version in its .TH line
install_man = sed 's/^\(\.TH .*"pat \)[^"]*"/\1$(PAT_VERSION)"/' docs/man/$(1) \
	>$(DESTDIR)$(MANDIR)/$(2)/$(1) && chmod 0644 $(DESTDIR)$(MANDIR)/$(2)/$(1)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/patd $(DESTDIR)$(SBINDIR)/patd
	install -m 0755 $(B)/patctl $(DESTDIR)$(BINDIR)/patctl
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(PAMCONFDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(B)/pam_pat.so $(DESTDIR)$(PAMDIR)/pam_pat.so
	install -m 0644 pam_pat/pam-configs/pat $(DESTDIR)$(PAMCONFDIR)/pat
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	$(call install_man,pam_pat.8,man8)
	$(call install_man,patd.8,man8)
	$(call install_man,patd.conf.5,man5)
	$(call install_man,patctl.1,man1)
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 patctl/patctl.bash $(DESTDIR)$(BASHCOMPDIR)/patctl
	install -m 0644 docs/patd.conf.example $(DESTDIR)$(DOCDIR)/
	install -m 0644 systemd/patd.socket $(DESTDIR)$(UNITDIR)/patd.socket
	install -d $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 systemd/patd.sysusers $(DESTDIR)$(SYSUSERSDIR)/patd.conf
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/patd.service.in \
	    >$(DESTDIR)$(UNITDIR)/patd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/patd.service
	install -d $(DESTDIR)$(PATSHAREDIR)/fleet
	install -m 0644 fleet/pat.schema fleet/pat.ldif fleet/slapd-acl.ldif \
	    fleet/slapd-lastuse.ldif $(DESTDIR)$(PATSHAREDIR)/fleet/
	install -m 0644 systemd/patd-fleet.conf $(DESTDIR)$(PATSHAREDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/patd $(DESTDIR)$(BINDIR)/patctl
	rm -f $(DESTDIR)$(UNITDIR)/patd.socket $(DESTDIR)$(UNITDIR)/patd.service
	rm -f $(DESTDIR)$(PAMDIR)/pam_pat.so $(DESTDIR)$(PAMCONFDIR)/pat
	rm -f $(DESTDIR)$(MANDIR)/man8/pam_pat.8 $(DESTDIR)$(MANDIR)/man8/patd.8
	rm -f $(DESTDIR)$(MANDIR)/man5/patd.conf.5 $(DESTDIR)$(MANDIR)/man1/patctl.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/patctl
	rm -f $(DESTDIR)$(SYSUSERSDIR)/patd.conf
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PATSHAREDIR)

clean:
	rm -rf $(B) .demo

# Debian packages (debian/, issue 15): dpkg-buildpackage in a copy of the
# source under build/deb/, so that its "debian/rules clean" and the .debs it
# writes to the parent directory stay inside build/.  DEB_VERSION= builds
# the same source as another version (the upgrade test's version+1).
deb:
	@$(DEPS) deb
	scripts/mkdeb.sh $(B)/deb $(DEB_VERSION)

# ---- libpat: the client library (libpat/, issue 13) -------------------------
# build/libpat.so.1 for C services (symbols versioned PAT_1, exactly those of
# pat/pat.h), build/libpat_pic.a for pam_pat.so (linked in, so a login never
# depends on a library search path), build/pat.pc for pkg-config.
LIBDIR	?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
LIBPAT	 = $(B)/libpat.so.1 $(B)/libpat.so $(B)/libpat_pic.a $(B)/pat.pc
LIBPAT_SRC = $(wildcard libpat/*.c)
LIBPAT_HDR = $(wildcard libpat/*.h libpat/include/pat/*.h)
# the parts of common/ libpat needs: the client side only
LIBPAT_COMMON = common/buf.c common/client.c common/proto.c common/clock.c \
	     common/names.c common/perm.c
LIBPAT_OBJ = $(LIBPAT_SRC:%.c=$(B)/obj/%.o)
LIBPAT_ALL_OBJ = $(LIBPAT_OBJ) $(LIBPAT_COMMON:%.c=$(B)/obj/%.o)
LIBPAT_MAN = pat_open.3 pat_open_trusted.3 pat_close.3 pat_strerror.3 \
	     pat_is_refusal.3 pat_retry_after.3 pat_refusal_detail.3

$(B)/obj/libpat/%.o $(B)/obj/pam_pat/%.o $(B)/obj/tests/%.o: \
    CPPFLAGS_ALL += -Ilibpat -Ilibpat/include
$(LIBPAT_OBJ) $(PAM_SRC:%.c=$(B)/obj/%.o) $(B)/obj/tests/test_libpat.o: \
    $(LIBPAT_HDR)

$(B)/libpat.so.1: $(LIBPAT_ALL_OBJ) libpat/libpat.map
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -shared -Wl,-soname,libpat.so.1 \
	    -Wl,--version-script=libpat/libpat.map -Wl,-z,defs \
	    -Wl,-z,relro,-z,now -o $@ $(LIBPAT_ALL_OBJ)

$(B)/asan/pam_pat.so: $(LIBPAT_SRC) $(LIBPAT_COMMON) $(LIBPAT_HDR)

$(B)/libpat.so: $(B)/libpat.so.1
	$(Q)ln -sf libpat.so.1 $@

$(B)/libpat_pic.a: $(LIBPAT_ALL_OBJ)
	@$(if $(V),:,echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# rewritten when PREFIX or LIBDIR change, so make install never installs a
# pat.pc pointing elsewhere
.PHONY: FORCE
FORCE:
$(B)/pat.pc: libpat/pat.pc.in FORCE
	@mkdir -p $(dir $@)
	$(Q)tmp=$@.tmp.$$$$; \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(PAT_VERSION)|' \
	    libpat/pat.pc.in >$$tmp && \
	if cmp -s $$tmp $@; then rm -f $$tmp; else mv $$tmp $@; fi

.PHONY: install-libpat uninstall-libpat
install: install-libpat
install-libpat: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/pat \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 0644 $(B)/libpat.so.1 $(DESTDIR)$(LIBDIR)/libpat.so.1
	ln -sf libpat.so.1 $(DESTDIR)$(LIBDIR)/libpat.so
	install -m 0644 libpat/include/pat/pat.h $(DESTDIR)$(INCLUDEDIR)/pat/pat.h
	install -m 0644 $(B)/pat.pc $(DESTDIR)$(PKGCONFIGDIR)/pat.pc
	$(call install_man,pat_verify.3,man3)
	for m in $(LIBPAT_MAN); do \
	    ln -sf pat_verify.3 $(DESTDIR)$(MANDIR)/man3/$$m || exit 1; done
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

uninstall: uninstall-libpat
uninstall-libpat:
	rm -f $(DESTDIR)$(LIBDIR)/libpat.so.1 $(DESTDIR)$(LIBDIR)/libpat.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/pat/pat.h $(DESTDIR)$(PKGCONFIGDIR)/pat.pc
	-rmdir $(DESTDIR)$(INCLUDEDIR)/pat 2>/dev/null
	rm -f $(DESTDIR)$(MANDIR)/man3/pat_verify.3
	for m in $(LIBPAT_MAN); do rm -f $(DESTDIR)$(MANDIR)/man3/$$m; done
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi
# ---- end of libpat ----------------------------------------------------------

# ---- pat-gate: forward auth for web servers (pat_gate/, issue 13) -----------
# build/pat-gate on libmicrohttpd, linked against build/libpat.so.1 (tests run
# it with LD_LIBRARY_PATH=$PAT_BUILD; installed, the loader finds LIBDIR).
GATE_SRC = $(wildcard pat_gate/*.c)
GATE_OBJ = $(GATE_SRC:%.c=$(B)/obj/%.o)
# what the gate shares with patd: the shapes of a permission and a user
# name, and the reader of its configuration file
GATE_COMMON = common/perm.c common/names.c common/conffile.c
GATE_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd libsystemd 2>/dev/null \
	    || echo -lmicrohttpd -lsystemd) -pthread
PROGS	+= $(B)/pat-gate

$(GATE_OBJ) $(B)/obj/tests/test_gate.o: CPPFLAGS_ALL += -Ipat_gate -Ilibpat/include
$(GATE_OBJ) $(B)/obj/tests/test_gate.o: $(wildcard pat_gate/*.h) \
    libpat/include/pat/pat.h

$(B)/pat-gate: $(GATE_OBJ) $(GATE_COMMON:%.c=$(B)/obj/%.o) $(B)/libpat.so
	@$(if $(V),:,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -pie -Wl,-z,relro,-z,now -o $@ $(GATE_OBJ) \
	    $(GATE_COMMON:%.c=$(B)/obj/%.o) -L$(B) -lpat $(GATE_LIBS)

# the tests call the header and address parsers directly (tests/test_gate.c)
$(B)/tests/run: $(B)/obj/pat_gate/auth.o $(B)/obj/pat_gate/addr.o

FUZZ_TARGETS += authz
FUZZ_SRC_authz = pat_gate/auth.c common/names.c
$(B)/fuzz/fuzz_authz: pat_gate/auth.c pat_gate/auth.h

.PHONY: install-gate uninstall-gate
install: install-gate
install-gate: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(B)/pat-gate $(DESTDIR)$(SBINDIR)/pat-gate
	install -m 0644 systemd/pat-gate.socket $(DESTDIR)$(UNITDIR)/pat-gate.socket
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/pat-gate.service.in \
	    >$(DESTDIR)$(UNITDIR)/pat-gate.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pat-gate.service
	install -m 0644 systemd/pat-gate.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/pat-gate.conf
	$(call install_man,pat-gate.8,man8)
	install -m 0644 docs/pat-gate.conf.example $(DESTDIR)$(DOCDIR)/

uninstall: uninstall-gate
uninstall-gate:
	rm -f $(DESTDIR)$(SBINDIR)/pat-gate $(DESTDIR)$(MANDIR)/man8/pat-gate.8
	rm -f $(DESTDIR)$(UNITDIR)/pat-gate.socket \
	    $(DESTDIR)$(UNITDIR)/pat-gate.service
	rm -f $(DESTDIR)$(SYSUSERSDIR)/pat-gate.conf
	rm -f $(DESTDIR)$(DOCDIR)/pat-gate.conf.example
# ---- end of pat-gate --------------------------------------------------------

# ---- web bench (issue 13): make bench's pat-gate rows -----------------------
# bench/mhd_floor.c: libmicrohttpd with pat-gate's options, answering 200;
# bench/run.sh also drives nginx and pat-gate with wrk.
BENCH_BINS += $(B)/bench/mhd_floor
$(B)/bench/mhd_floor: bench/mhd_floor.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -pthread -o $@ $< \
	    $(shell $(PKG_CONFIG) --cflags --libs libmicrohttpd 2>/dev/null || \
	    echo -lmicrohttpd)
# ---- end of web bench -------------------------------------------------------
# ---- fleet bench (issue 16): make bench's fleet rows -------------------------
# bench/fleet.sh (run by bench/run.sh; BENCH_FLEET=0 skips it, BENCH_FLEET=only
# runs nothing else) drives a real slapd and real patds with these.
BENCH_BINS += $(B)/bench/fleetgen $(B)/bench/fleetprop $(B)/bench/fleetwait
$(B)/bench/fleetgen: bench/fleetgen.c $(B)/obj/patd/keyfile.o $(B)/libpatcommon.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(PKG_CFLAGS) -Ipatd -o $@ $^ \
	    $(PKG_LIBS)
$(B)/bench/fleetprop: bench/fleetprop.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< -lldap -llber
$(B)/bench/fleetwait: bench/fleetwait.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $<
# ---- end of fleet bench -----------------------------------------------------
