/* Protobuf text-format rendering of any protobuf-c message, one line (for tools and logs). */
#include <ctrbox/pbtext.h>

#include <inttypes.h>
#include <string.h>

static void print_bytes(FILE *f, const uint8_t *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int print_message_body(FILE *f, const ProtobufCMessage *m, int first);

/* Returns 1 if something was printed. */
static int print_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *v, int first,
		       int force)
{
	const char *sep = first ? "" : " ";

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (!force && !*(const int32_t *)v)
			return 0;
		fprintf(f, "%s%s: %" PRId32, sep, fd->name, *(const int32_t *)v);
		return 1;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (!force && !*(const uint32_t *)v)
			return 0;
		fprintf(f, "%s%s: %" PRIu32, sep, fd->name, *(const uint32_t *)v);
		return 1;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (!force && !*(const int64_t *)v)
			return 0;
		fprintf(f, "%s%s: %" PRId64, sep, fd->name, *(const int64_t *)v);
		return 1;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (!force && !*(const uint64_t *)v)
			return 0;
		fprintf(f, "%s%s: %" PRIu64, sep, fd->name, *(const uint64_t *)v);
		return 1;
	case PROTOBUF_C_TYPE_BOOL:
		if (!force && !*(const protobuf_c_boolean *)v)
			return 0;
		fprintf(f, "%s%s: %s", sep, fd->name,
			*(const protobuf_c_boolean *)v ? "true" : "false");
		return 1;
	case PROTOBUF_C_TYPE_FLOAT:
		if (!force && *(const float *)v == 0)
			return 0;
		fprintf(f, "%s%s: %g", sep, fd->name, *(const float *)v);
		return 1;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!force && *(const double *)v == 0)
			return 0;
		fprintf(f, "%s%s: %g", sep, fd->name, *(const double *)v);
		return 1;
	case PROTOBUF_C_TYPE_ENUM: {
		int e = *(const int *)v;
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(fd->descriptor, e);
		if (!force && !e)
			return 0;
		if (ev)
			fprintf(f, "%s%s: %s", sep, fd->name, ev->name);
		else
			fprintf(f, "%s%s: %d", sep, fd->name, e);
		return 1;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;
		if (!s || (!force && !*s))
			return 0;
		fprintf(f, "%s%s: ", sep, fd->name);
		print_bytes(f, (const uint8_t *)s, strlen(s));
		return 1;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;
		if (!force && !b->len)
			return 0;
		fprintf(f, "%s%s: ", sep, fd->name);
		print_bytes(f, b->data, b->len);
		return 1;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
		if (!sub)
			return 0;
		fprintf(f, "%s%s {", sep, fd->name);
		fputs(print_message_body(f, sub, 0) ? " }" : "}", f);
		return 1;
	}
	}
	return 0;
}

size_t ctrbox_pbtext_value_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static int print_message_body(FILE *f, const ProtobufCMessage *m, int first)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int printed = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *base = (const char *)m + fd->offset;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + fd->quantifier_offset);
			const char *arr = *(char *const *)base;
			for (size_t k = 0; k < n; k++)
				printed |=
				    print_value(f, fd, arr + k * ctrbox_pbtext_value_size(fd),
						first && !printed, 1);
		} else {
			printed |= print_value(f, fd, base, first && !printed, 0);
		}
	}
	return printed;
}

void ctrbox_pbtext_print(FILE *f, const ProtobufCMessage *m)
{
	if (!print_message_body(f, m, 1))
		fputs("\"\"", f);
}
