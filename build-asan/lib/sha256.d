build-asan/lib/sha256.o: lib/sha256.c lib/sha256.h
lib/sha256.h:
