build-asan/lib/loop.o: lib/loop.c lib/loop.h
lib/loop.h:
