build-asan/lib/ttrpc_codec.o: lib/ttrpc_codec.c lib/ttrpc_codec.h \
 build-asan/gen/google/rpc/status.pb-c.h \
 build-asan/gen/google/protobuf/any.pb-c.h \
 build-asan/gen/ttrpc/ttrpc.pb-c.h
lib/ttrpc_codec.h:
build-asan/gen/google/rpc/status.pb-c.h:
build-asan/gen/google/protobuf/any.pb-c.h:
build-asan/gen/ttrpc/ttrpc.pb-c.h:
