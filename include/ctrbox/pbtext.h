/* Protobuf text-format rendering of any protobuf-c message, one line (for tools and logs). */
#ifndef CTRBOX_PBTEXT_H
#define CTRBOX_PBTEXT_H

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Prints set fields as `name: value` separated by spaces; an empty message prints `""`. */
void ctrbox_pbtext_print(FILE *f, const ProtobufCMessage *m);
/* The size of one value of field fd in a protobuf-c message struct (a repeated field's element). */
size_t ctrbox_pbtext_value_size(const ProtobufCFieldDescriptor *fd);

#ifdef __cplusplus
}
#endif

#endif
