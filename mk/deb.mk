# make deb: Debian packages ctrbox and libctrbox-dev, built with dpkg-deb from trees staged
# under build/deb/ (no debhelper: the binary is already built by this Makefile). make deb-lint
# runs lintian on both and fails on any tag not listed, with its reason, in
# packaging/lintian-accepted. The layout is the one of issue 18: /usr/bin/ctrbox; ctrbox-ctr
# next to it; the operator's tools in /usr/sbin; every applet's name in /usr/libexec/ctrbox/,
# a directory on nobody's PATH, so installing the package changes nothing on a node by itself.
DEB_ARCH      := $(shell dpkg --print-architecture 2>/dev/null)
DEB_MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
# The Debian revision of this version: the package is built from the upstream tree as it is.
DEB_REVISION  ?= 1
DEB_VERSION   := $(VERSION)-$(DEB_REVISION)
DEB_MAINTAINER ?= $(shell git log -1 --format='%an <%ae>' 2>/dev/null || echo 'ctrbox maintainers <root@localhost>')
DEB_DIR       := $(BUILD)/deb
DEB_BIN       := $(DEB_DIR)/ctrbox_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_DEV       := $(DEB_DIR)/libctrbox-dev_$(DEB_VERSION)_$(DEB_ARCH).deb
# Written by the snapshotter's part of issue 18; installed when they are there.
DEB_UNITS     := $(wildcard packaging/systemd/ctrbox-snapshotter.service packaging/systemd/ctrbox-snapshotter.socket)
DEB_DROPIN    := $(wildcard packaging/containerd/ctrbox-snapshotter.toml)
DEB_SCRIPTS   := $(wildcard packaging/debian/ctrbox.*)

.PHONY: deb deb-lint
deb: $(DEB_BIN) $(DEB_DEV)

# The common end of both packages: /usr/share/doc/PKG (copyright, changelog.Debian.gz), man
# pages gzipped (-9n: no name or time in the header), md5sums, control, then dpkg-deb, every
# time stamp the last commit's (DOC_EPOCH, mk/man.mk): the same tree gives the same packages.
# $(call deb-finish,PKG,ROOT,OUT)
define deb-finish
	install -d -m 0755 $(2)/usr/share/doc/$(1) $(2)/DEBIAN
	install -m 0644 packaging/debian/copyright $(2)/usr/share/doc/$(1)/copyright
	{ echo "$(1) ($(DEB_VERSION)) unstable; urgency=medium"; echo; \
	  echo "  * Built from the ctrbox tree$$(git rev-parse --short HEAD 2>/dev/null | sed 's/^/ at commit /')."; \
	  echo; echo " -- $(DEB_MAINTAINER)  $$(date -u -R -d @$(DOC_EPOCH))"; } \
		| gzip -9n > $(2)/usr/share/doc/$(1)/changelog.Debian.gz
	chmod 0644 $(2)/usr/share/doc/$(1)/changelog.Debian.gz
	if [ -d $(2)/usr/share/man ]; then find $(2)/usr/share/man -type f ! -name '*.gz' -exec gzip -9n {} +; fi
	cd $(2) && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
		| xargs -0r md5sum > DEBIAN/md5sums
	chmod 0644 $(2)/DEBIAN/md5sums
	sed -e 's|@VERSION@|$(DEB_VERSION)|; s|@ARCH@|$(DEB_ARCH)|; s|@MAINTAINER@|$(DEB_MAINTAINER)|' \
		-e "s|@SIZE@|$$(du -sk --apparent-size --exclude=DEBIAN $(2) | cut -f1)|" \
		packaging/debian/$(1).control > $(2)/DEBIAN/control
	chmod 0644 $(2)/DEBIAN/control
	find $(2) -type d -exec chmod 0755 {} +
	find $(2) -exec touch -h -d @$(DOC_EPOCH) {} +
	SOURCE_DATE_EPOCH=$(DOC_EPOCH) dpkg-deb --root-owner-group -Zxz --build $(2) $(3)
endef

# ctrbox: the binary stripped (Debian ships no debug info in the package itself), its links,
# man pages 1 and 8, the completion, the units and the containerd drop-in, maintainer scripts.
$(DEB_BIN): $(BUILD)/ctrbox $(filter-out %.3,$(MAN_PAGES)) packaging/bash-completion/ctrbox-ctr \
		packaging/debian/ctrbox.control packaging/debian/copyright $(DEB_SCRIPTS) $(DEB_UNITS) FORCE \
		$(DEB_DROPIN) mk/deb.mk
	@set -e; umask 022; r=$(DEB_DIR)/ctrbox; rm -rf $$r; \
	install -d $$r/usr/bin $$r/usr/sbin $$r/usr/libexec/ctrbox; \
	install -m 0755 $(BUILD)/ctrbox $$r/usr/bin/ctrbox; \
	strip --remove-section=.comment --remove-section=.note --strip-unneeded $$r/usr/bin/ctrbox; \
	ln -s ctrbox $$r/usr/bin/ctrbox-ctr; \
	applets=$$($(BUILD)/ctrbox --list); \
	for a in ctrbox-setup ctrbox-snapshotter ctrbox-journal; do \
		if printf '%s\n' $$applets | grep -qx $$a; then ln -s ../bin/ctrbox $$r/usr/sbin/$$a; fi; \
	done; \
	for a in $$applets; do ln -s ../../bin/ctrbox $$r/usr/libexec/ctrbox/$$a; done; \
	for m in $(filter-out %.3,$(MAN_PAGES)); do \
		install -D -m 0644 $$m $$r/usr/share/man/man$${m##*.}/$${m##*/}; done; \
	install -D -m 0644 packaging/bash-completion/ctrbox-ctr \
		$$r/usr/share/bash-completion/completions/ctrbox-ctr; \
	for u in $(DEB_UNITS); do install -D -m 0644 $$u $$r/lib/systemd/system/$${u##*/}; done; \
	for d in $(DEB_DROPIN); do install -d $$r/usr/share/ctrbox/containerd; \
		sed 's|"linux/amd64"|"linux/$(DEB_ARCH)"|' $$d > $$r/usr/share/ctrbox/containerd/$${d##*/}; \
		chmod 0644 $$r/usr/share/ctrbox/containerd/$${d##*/}; done; \
	install -d $$r/DEBIAN; \
	for s in $(DEB_SCRIPTS); do case $$s in *.control) ;; \
		*) install -m 0755 $$s $$r/DEBIAN/$${s##*.};; esac; done
	$(call deb-finish,ctrbox,$(DEB_DIR)/ctrbox,$@)

# libctrbox-dev: what make install-dev puts under /usr, the archive in the multiarch libdir.
$(DEB_DEV): $(BUILD)/libctrbox.a $(filter %.3,$(MAN_PAGES)) packaging/debian/libctrbox-dev.control \
		packaging/debian/copyright ctrbox.pc.in $(PUB_HDRS) mk/deb.mk FORCE
	rm -rf $(DEB_DIR)/libctrbox-dev
	umask 022; $(MAKE) --no-print-directory install-dev DESTDIR=$(abspath $(DEB_DIR)/libctrbox-dev) \
		PREFIX=/usr LIBDIR=/usr/lib/$(DEB_MULTIARCH) INCDIR=/usr/include MANDIR=/usr/share/man
	strip --strip-debug --remove-section=.comment --remove-section=.note \
		$(DEB_DIR)/libctrbox-dev/usr/lib/$(DEB_MULTIARCH)/libctrbox.a
	$(call deb-finish,libctrbox-dev,$(DEB_DIR)/libctrbox-dev,$@)

# lintian's tags, but those packaging/lintian-accepted lists ("TAG  why"; # comments).
deb-lint: $(DEB_BIN) $(DEB_DEV)
	@set -o pipefail; accepted=$$(sed -e 's/#.*//' packaging/lintian-accepted | awk 'NF {print $$1}'); \
	out=$$(lintian --no-cfg --display-info --tag-display-limit 0 $(DEB_BIN) $(DEB_DEV) 2>&1 \
		| grep -vx 'running with root privileges is not recommended!') || true; \
	echo "$$out"; bad=0; \
	while read -r line; do \
		[ -n "$$line" ] || continue; \
		tag=$$(echo "$$line" | sed -n 's/^[EWIPX]: [^ ]*: \([^ ]*\).*/\1/p'); \
		if [ -z "$$tag" ]; then echo "deb-lint: unexpected lintian output: $$line"; bad=1; continue; fi; \
		echo "$$accepted" | grep -qx -- "$$tag" || { echo "deb-lint: not accepted: $$line"; bad=1; }; \
	done <<< "$$out"; \
	[ $$bad = 0 ] && echo "deb-lint: only accepted tags (packaging/lintian-accepted)"
