build-asan/lib/publisher.o: lib/publisher.c lib/publisher.h lib/loop.h \
 build-asan/gen/events/ttrpc_events.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/google/protobuf/empty.pb-c.h \
 build-asan/gen/google/protobuf/timestamp.pb-c.h lib/log.h lib/ttrpc.h \
 lib/ttrpc_codec.h
lib/publisher.h:
lib/loop.h:
build-asan/gen/events/ttrpc_events.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/google/protobuf/empty.pb-c.h:
build-asan/gen/google/protobuf/timestamp.pb-c.h:
lib/log.h:
lib/ttrpc.h:
lib/ttrpc_codec.h:
