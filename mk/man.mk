# Man pages from scdoc (Debian's scdoc, in DEPS_BUILD): doc/man/NAME.SECTION.scd is the source,
# build/man/NAME.SECTION the roff that make install and make deb install. A new .scd is picked
# up by the pattern. The date in the page's header is the last commit's (SOURCE_DATE_EPOCH, as
# scdoc reads it), so the same tree gives the same pages.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

.PHONY: man
man: $(MAN_PAGES)

$(BUILD)/man/%: doc/man/%.scd
	@mkdir -p $(@D)
	scdoc < $< > $@.tmp
	mv $@.tmp $@
