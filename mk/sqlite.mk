# SQLite for ctrbox-snapshotter's store (applets/snapshotter/store.c), built here from Debian's
# own source package of the system's release, not Debian's libsqlite3.a (issue 17: the binary in
# 2 MB). Debian's archive is built with everything: FTS3/4/5, R*Tree, JSON, the math functions
# (which pull ~290 kB of libm), sessions, dbstat, load_extension (dlopen in a static binary:
# "Using 'dlopen' in statically linked applications" at every link), and its objects are not
# split into sections, so --gc-sections cannot drop what the store never calls: 1,170 kB of the
# binary. Built here, as the amalgamation with only what the store needs, it is a third of that.
#
# The source: tests/conformance/src-fetch.sh (a private deb-src apt state derived from the
# system's debian.sources; the .dsc and tarballs cached in /var/cache/ctrbox, Debian's patches
# applied), the same upstream version as the system's libsqlite3. The amalgamation sqlite3.c is
# made by upstream's own configure + `make sqlite3.c` (it runs lemon and mkkeywordhash, and
# tclsh for mksqlite3c.tcl: Debian's tcl, in DEPS_BUILD) with SQLITE_OPTS, because the
# SQLITE_OMIT_* options must be seen by the parser generator too, not only by the compiler.
#
# SQLITE_OPTS: what the store does not need, and how it must behave.
# - Kept, because the store relies on them: WAL, synchronous=FULL and locking_mode=EXCLUSIVE
#   (the pager and flag pragmas), foreign keys with ON DELETE CASCADE (which need triggers),
#   PRAGMA user_version (schema-version pragmas) for its schema migrations, ALTER TABLE for the
#   next one (ALTER needs virtual tables: SQLITE_OMIT_VIRTUALTABLE implies SQLITE_OMIT_ALTERTABLE),
#   WITHOUT ROWID, INSERT OR REPLACE / upsert, subqueries, CTEs, views, integrity_check, the busy
#   handler, VACUUM and ATTACH (VACUUM needs it). SQLite's default durability settings are
#   unchanged (no SQLITE_DEFAULT_* but MEMSTATUS).
# - THREADSAFE=0: the store is one connection used by one thread (the snapshotter's event loop;
#   opened SQLITE_OPEN_NOMUTEX); no mutexes at all. A second thread using SQLite needs this changed.
# - Not enabled: FTS, R*Tree, math functions, sessions, dbstat, column metadata (Debian's
#   SQLITE_ENABLE_*); Debian's SQLITE_SECURE_DELETE (zeroing freed pages: I/O, not durability)
#   and SQLITE_OMIT_LOOKASIDE (lookaside is upstream's default) are not copied either.
# - Omitted: load_extension (no dlopen), JSON, window functions, ANALYZE, auto-vacuum,
#   incremental blob I/O, date/time functions, UTF-16 APIs, shared cache, deprecated APIs,
#   EXPLAIN, authorizer, progress callback, get_table, complete, decltype, TEMP
#   databases, REINDEX, compile-option and introspection pragmas, the test hooks
#   (SQLITE_UNTESTABLE), memory statistics (DEFAULT_MEMSTATUS=0). The trace callback stays:
#   CTRBOX_SNAPSHOTTER_SQL_TRACE=1 logs the store's statements with it (+16 kB stripped).
# Compiled -Os with its functions and data in their own sections (so --gc-sections drops the
# API the store never calls); the store is bound by fsync, not by SQLite's CPU (bench/README.md).
SQLITE_SUITE  ?= $(shell . /etc/os-release && echo $$VERSION_CODENAME)
SQLITE_DIR    := $(BUILD)/sqlite
SQLITE_OPTS   := -DSQLITE_THREADSAFE=0 -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS \
	-DSQLITE_MAX_EXPR_DEPTH=0 -DSQLITE_UNTESTABLE -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_JSON \
	-DSQLITE_OMIT_WINDOWFUNC -DSQLITE_OMIT_ANALYZE -DSQLITE_OMIT_AUTOVACUUM -DSQLITE_OMIT_INCRBLOB -DSQLITE_OMIT_DATETIME_FUNCS \
	-DSQLITE_OMIT_LOCALTIME -DSQLITE_OMIT_UTF16 -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED \
	-DSQLITE_OMIT_EXPLAIN -DSQLITE_OMIT_AUTHORIZATION -DSQLITE_OMIT_PROGRESS_CALLBACK \
	-DSQLITE_OMIT_GET_TABLE -DSQLITE_OMIT_COMPLETE -DSQLITE_OMIT_DECLTYPE -DSQLITE_OMIT_TCL_VARIABLE \
	-DSQLITE_OMIT_TEMPDB -DSQLITE_OMIT_REINDEX -DSQLITE_OMIT_COMPILEOPTION_DIAGS \
	-DSQLITE_OMIT_INTROSPECTION_PRAGMAS -DSQLITE_OMIT_CASE_SENSITIVE_LIKE_PRAGMA -DSQLITE_OMIT_XFER_OPT
SQLITE_CFLAGS := -Os -g -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables

# The options, in a file that changes only when they do: a new set makes a new amalgamation.
$(SQLITE_DIR)/opts: FORCE
	@mkdir -p $(@D)
	@echo '$(SQLITE_OPTS)' | cmp -s - $@ || echo '$(SQLITE_OPTS)' >$@

# src-fetch.sh prints "sqlite3 VERSION DIR". configure and make run out of tree in bld/, with
# the parent make's flags and variables kept out (an ASan CFLAGS must not reach lemon).
$(SQLITE_DIR)/sqlite3.c: $(SQLITE_DIR)/opts mk/sqlite.mk
	@set -e; read -r _ ver src < <(tests/conformance/src-fetch.sh $(SQLITE_SUITE) $(SQLITE_DIR)/src sqlite3); \
	echo "sqlite: amalgamation of Debian's sqlite3 $$ver ($(SQLITE_SUITE))"; \
	rm -rf $(SQLITE_DIR)/bld; mkdir -p $(SQLITE_DIR)/bld; src=$$(realpath $$src); \
	cd $(SQLITE_DIR)/bld; \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL CC=cc CFLAGS=-O2 $$src/configure -q --disable-tcl \
		--disable-readline --disable-load-extension >configure.log 2>&1 || { cat configure.log; exit 1; }; \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s OPT_FEATURE_FLAGS= OPTS='$(SQLITE_OPTS)' \
		sqlite3.c >make.log 2>&1 || { tail -30 make.log; exit 1; }; \
	cp sqlite3.h ../sqlite3.h; cp sqlite3.c ../sqlite3.c.tmp; mv ../sqlite3.c.tmp ../sqlite3.c

$(SQLITE_DIR)/sqlite3.h: $(SQLITE_DIR)/sqlite3.c

$(SQLITE_DIR)/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	$(CC) $(SQLITE_CFLAGS) $(SQLITE_OPTS) -c -o $@ $<

$(SQLITE_DIR)/libsqlite3.a: $(SQLITE_DIR)/sqlite3.o
	rm -f $@
	ar rcs $@ $^

.PHONY: sqlite
sqlite: $(SQLITE_DIR)/libsqlite3.a
