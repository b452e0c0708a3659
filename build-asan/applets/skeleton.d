build-asan/applets/skeleton.o: applets/skeleton.c lib/applet.h lib/log.h \
 lib/shim.h lib/loop.h lib/ttrpc.h lib/ttrpc_codec.h \
 build-asan/gen/task/shim.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/empty.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h \
 build-asan/gen/types/mount.pb-c.h build-asan/gen/types/task.pb-c.h
lib/applet.h:
lib/log.h:
lib/shim.h:
lib/loop.h:
lib/ttrpc.h:
lib/ttrpc_codec.h:
build-asan/gen/task/shim.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
build-asan/gen/types/mount.pb-c.h:
build-asan/gen/types/task.pb-c.h:
