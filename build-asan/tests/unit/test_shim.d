build-asan/tests/unit/test_shim.o: tests/unit/test_shim.c lib/log.h \
 lib/sha256.h lib/shim.h lib/loop.h lib/ttrpc.h lib/ttrpc_codec.h \
 tests/unit/unit.h lib/util.h
lib/log.h:
lib/sha256.h:
lib/shim.h:
lib/loop.h:
lib/ttrpc.h:
lib/ttrpc_codec.h:
tests/unit/unit.h:
lib/util.h:
