build-asan/lib/pbtext.o: lib/pbtext.c lib/pbtext.h
lib/pbtext.h:
