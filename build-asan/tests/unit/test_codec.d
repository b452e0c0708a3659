build-asan/tests/unit/test_codec.o: tests/unit/test_codec.c \
 build-asan/gen/task/shim.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/empty.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h \
 build-asan/gen/types/mount.pb-c.h build-asan/gen/types/task.pb-c.h \
 lib/ttrpc_codec.h tests/unit/unit.h
build-asan/gen/task/shim.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
build-asan/gen/types/mount.pb-c.h:
build-asan/gen/types/task.pb-c.h:
lib/ttrpc_codec.h:
tests/unit/unit.h:
