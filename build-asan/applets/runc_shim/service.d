build-asan/applets/runc_shim/service.o: applets/runc_shim/service.c \
 build-asan/gen/events/task.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h \
 build-asan/gen/types/mount.pb-c.h lib/json.h lib/log.h lib/mount.h \
 build-asan/gen/runc/options.pb-c.h applets/runc_shim/runc_shim.h \
 lib/io.h lib/loop.h lib/runc.h lib/shim.h lib/ttrpc.h lib/ttrpc_codec.h \
 lib/ttrpc.h build-asan/gen/task/shim.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/empty.pb-c.h \
 build-asan/gen/types/task.pb-c.h lib/util.h
build-asan/gen/events/task.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
build-asan/gen/types/mount.pb-c.h:
lib/json.h:
lib/log.h:
lib/mount.h:
build-asan/gen/runc/options.pb-c.h:
applets/runc_shim/runc_shim.h:
lib/io.h:
lib/loop.h:
lib/runc.h:
lib/shim.h:
lib/ttrpc.h:
lib/ttrpc_codec.h:
lib/ttrpc.h:
build-asan/gen/task/shim.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
build-asan/gen/types/task.pb-c.h:
lib/util.h:
