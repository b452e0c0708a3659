build-asan/applets/connect.o: applets/connect.c lib/applet.h \
 build-asan/gen/google/protobuf/empty.pb-c.h lib/loop.h lib/pbtext.h \
 build-asan/gen/task/shim.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h \
 build-asan/gen/types/mount.pb-c.h build-asan/gen/types/task.pb-c.h \
 lib/ttrpc.h lib/loop.h lib/ttrpc_codec.h
lib/applet.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
lib/loop.h:
lib/pbtext.h:
build-asan/gen/task/shim.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
build-asan/gen/types/mount.pb-c.h:
build-asan/gen/types/task.pb-c.h:
lib/ttrpc.h:
lib/loop.h:
lib/ttrpc_codec.h:
