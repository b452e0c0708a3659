# Man pages from scdoc (Debian's scdoc, in DEPS_BUILD): doc/man/NAME.SECTION.scd is the source,
# build/man/NAME.SECTION the roff that make install and make deb install. A new .scd is picked
# up by the pattern. The date in the page's header is the last commit's (or SOURCE_DATE_EPOCH's,
# which scdoc reads), so the same tree gives the same pages.
# (recursive: the shell runs only when a page or a package is made)
DOC_EPOCH = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),$(shell date +%s))

.PHONY: man
man: $(MAN_PAGES)

$(BUILD)/man/%: doc/man/%.scd
	@mkdir -p $(@D)
	SOURCE_DATE_EPOCH=$(DOC_EPOCH) scdoc < $< > $@.tmp
	mv $@.tmp $@
