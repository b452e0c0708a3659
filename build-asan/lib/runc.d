build-asan/lib/runc.o: lib/runc.c lib/runc.h lib/json.h lib/util.h
lib/runc.h:
lib/json.h:
lib/util.h:
