build-asan/lib/shim.o: lib/shim.c lib/shim.h lib/loop.h lib/ttrpc.h \
 lib/ttrpc_codec.h lib/applet.h lib/log.h lib/publisher.h lib/sha256.h \
 build-asan/gen/task/shim.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/empty.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h \
 build-asan/gen/types/mount.pb-c.h build-asan/gen/types/task.pb-c.h \
 lib/util.h
lib/shim.h:
lib/loop.h:
lib/ttrpc.h:
lib/ttrpc_codec.h:
lib/applet.h:
lib/log.h:
lib/publisher.h:
lib/sha256.h:
build-asan/gen/task/shim.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
build-asan/gen/types/mount.pb-c.h:
build-asan/gen/types/task.pb-c.h:
lib/util.h:
