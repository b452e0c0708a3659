build-asan/tests/tools/ttrpc-probe.o: tests/tools/ttrpc-probe.c \
 build-asan/gen/task/shim.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/empty.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h \
 build-asan/gen/types/mount.pb-c.h build-asan/gen/types/task.pb-c.h \
 lib/ttrpc.h lib/loop.h lib/ttrpc_codec.h lib/ttrpc_codec.h
build-asan/gen/task/shim.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
build-asan/gen/types/mount.pb-c.h:
build-asan/gen/types/task.pb-c.h:
lib/ttrpc.h:
lib/loop.h:
lib/ttrpc_codec.h:
lib/ttrpc_codec.h:
