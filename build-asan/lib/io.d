build-asan/lib/io.o: lib/io.c lib/io.h lib/loop.h lib/log.h
lib/io.h:
lib/loop.h:
lib/log.h:
