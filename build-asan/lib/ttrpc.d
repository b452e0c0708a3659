build-asan/lib/ttrpc.o: lib/ttrpc.c lib/ttrpc.h lib/loop.h \
 lib/ttrpc_codec.h lib/log.h
lib/ttrpc.h:
lib/loop.h:
lib/ttrpc_codec.h:
lib/log.h:
