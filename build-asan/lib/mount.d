build-asan/lib/mount.o: lib/mount.c lib/mount.h lib/util.h
lib/mount.h:
lib/util.h:
