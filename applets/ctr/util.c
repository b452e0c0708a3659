/* ctrbox-ctr helpers: the connection and calls, ctr-style flags, tabwriter output, formats. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctr/ctr.h"
#include "ctr/pbjson.h"

int ctr_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("ctr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

uint64_t ctr_timeout_left(const struct ctr *c)
{
	if (!c->deadline_ms)
		return 0;
	uint64_t now = ctrbox_loop_now_ms();
	return c->deadline_ms > now ? c->deadline_ms - now : 1;
}

struct ctrbox_grpc_client *ctr_client(struct ctr *c)
{
	if (c->cli)
		return c->cli;
	if (ctr_completing())
		return NULL; /* completing a line talks to no containerd */
	int rc = ctrbox_client_connect(c->address, &c->client);
	if (rc) {
		if (rc == -ENOMEM)
			ctr_fail("out of memory");
		else /* ctr (grpc-go) words it as a failed dial */
			ctr_fail("failed to dial \"%s\": %s", c->address, strerror(-rc));
		c->client = NULL;
		return NULL;
	}
	c->loop = ctrbox_client_loop(c->client);
	c->cli = ctrbox_client_grpc(c->client);
	return c->cli;
}

/* The client's metadata and timeout follow c (image.c sets and clears c->lease itself). */
static int sync_client(struct ctr *c)
{
	if (ctrbox_client_set_namespace(c->client, c->ns) ||
	    ctrbox_client_set_lease(c->client, c->lease))
		return -ENOMEM;
	ctrbox_client_set_timeout(c->client, ctr_timeout_left(c));
	return 0;
}

size_t ctr_metadata(const struct ctr *c, struct ctrbox_kv md[2])
{
	size_t n = 0;
	if (c->ns && *c->ns)
		md[n++] = (struct ctrbox_kv){"containerd-namespace", c->ns};
	if (c->lease && *c->lease)
		md[n++] = (struct ctrbox_kv){"containerd-lease", c->lease};
	return n;
}

/* Connects and syncs the client; CTRBOX_OK or Unavailable with *errmsg set. */
static int ctr_ready(struct ctr *c, char **errmsg)
{
	if (errmsg)
		*errmsg = NULL;
	if (!ctr_client(c)) {
		if (errmsg)
			*errmsg = strdup("connection failed");
		return CTRBOX_UNAVAILABLE;
	}
	if (sync_client(c)) {
		if (errmsg)
			*errmsg = strdup(strerror(ENOMEM));
		return CTRBOX_UNAVAILABLE;
	}
	return CTRBOX_OK;
}

int ctr_call(struct ctr *c, const char *path, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp, char **errmsg)
{
	if (resp)
		*resp = NULL;
	int rc = ctr_ready(c, errmsg);
	if (rc)
		return rc;
	return ctrbox_client_call(c->client, path, req, out_desc, resp, errmsg);
}

int ctr_call_stream(struct ctr *c, const char *path, const ProtobufCMessage *req,
		    ctrbox_grpc_msg_cb on_msg, void *data, char **errmsg)
{
	int rc = ctr_ready(c, errmsg);
	if (rc)
		return rc;
	return ctrbox_client_call_stream(c->client, path, req, on_msg, data, errmsg);
}

int ctr_rpc(struct ctr *c, const char *path, const ProtobufCMessage *req,
	    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp)
{
	char *msg = NULL;
	int rc = ctr_call(c, path, req, out_desc, resp, &msg);
	if (rc) {
		/* a dropped connection or a passed deadline say so, like grpc-go's errors */
		if (rc == CTRBOX_DEADLINE_EXCEEDED)
			ctr_fail("context deadline exceeded");
		else if (rc == CTRBOX_UNAVAILABLE && c->cli == NULL)
			; /* ctr_client printed it */
		else {
			/* as ctr prints errdefs.FromGRPC errors: "<message>: <class>" */
			char *e = ctr_errdefs(rc, msg);
			ctr_fail("%s", e ? e : ctrbox_code_name(rc));
			free(e);
		}
		free(msg);
		return 1;
	}
	free(msg);
	return 0;
}

/* ctr_call with the error in errdefs form (the errdefs text is pbjson.c's). */
int cx_call(struct ctr *c, const char *path, const ProtobufCMessage *req,
	    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp, char **err)
{
	char *msg = NULL;
	int code = ctr_call(c, path, req, out_desc, resp, &msg);
	if (code) {
		*err = c->cli ? ctr_errdefs(code, msg) : NULL;
		if (!*err)
			*err = strdup(msg ? msg : "connection failed");
	}
	free(msg);
	return code;
}

int cx_rpc(struct ctr *c, const char *path, const ProtobufCMessage *req,
	   const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp)
{
	char *err = NULL;
	int code = cx_call(c, path, req, out_desc, resp, &err);
	if (code) {
		if (c->cli) /* else ctr_client printed why */
			ctr_fail("%s", err ? err : "unknown");
		free(err);
		return 1;
	}
	return 0;
}

int cx_fail(struct ctr *c, const char *err)
{
	if (c->cli)
		ctr_fail("%s", err ? err : "unknown error");
	return 1;
}

/* ---- flags ---- */

int ctr_name_in(const char *names, const char *name, size_t len)
{
	for (const char *p = names; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == len && !strncmp(p, name, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static ssize_t find_flag(const struct ctr_flag *flags, size_t nflags, const char *name, size_t len)
{
	for (size_t i = 0; i < nflags; i++)
		if (ctr_name_in(flags[i].names, name, len))
			return (ssize_t)i;
	return -1;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcmp(v, "t")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcmp(v, "f")) {
		*out = 0;
		return 0;
	}
	return -1;
}

int ctr_parse(int argc, char **argv, const struct ctr_flag *flags, size_t nflags, int reorder,
	      struct ctr_args *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->nflags = nflags;
	a->val = calloc(nflags + 1, sizeof(*a->val));
	a->multi = calloc(nflags + 1, sizeof(*a->multi));
	a->nmulti = calloc(nflags + 1, sizeof(*a->nmulti));
	a->argv = calloc((size_t)argc + 1, sizeof(*a->argv));
	if (!a->val || !a->multi || !a->nmulti || !a->argv)
		return ctr_fail("out of memory");
	for (size_t i = 0; i < nflags; i++)
		if (flags[i].kind == CF_STR)
			a->val[i] = flags[i].def;
	int i = 1, only_args = 0;
	for (; i < argc; i++) {
		char *s = argv[i];
		if (only_args || s[0] != '-' || s[1] == 0) {
			if (!reorder) {
				/* the rest are positional, flags included */
				for (; i < argc; i++)
					a->argv[a->argc++] = argv[i];
				break;
			}
			a->argv[a->argc++] = s;
			continue;
		}
		if (!strcmp(s, "--")) {
			only_args = 1;
			if (!reorder) {
				for (i++; i < argc; i++)
					a->argv[a->argc++] = argv[i];
				break;
			}
			continue;
		}
		const char *name = s + (s[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		ssize_t f = find_flag(flags, nflags, name, len);
		if (f < 0 && ctr_completing())
			continue; /* a line being typed: what is known still counts */
		if (f < 0) {
			fprintf(stderr, "Incorrect Usage: flag provided but not defined: -%.*s\n\n",
				(int)len, name);
			return ctr_fail("flag provided but not defined: -%.*s", (int)len, name);
		}
		if (flags[f].kind == CF_BOOL) {
			int b = 1;
			if (eq && parse_bool(eq + 1, &b) && !ctr_completing())
				return ctr_fail("invalid boolean value \"%s\" for -%.*s", eq + 1,
						(int)len, name);
			a->val[f] = b ? "true" : NULL;
			continue;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (!v) {
			if (i + 1 >= argc && ctr_completing())
				break;
			if (i + 1 >= argc)
				return ctr_fail("flag needs an argument: -%.*s", (int)len, name);
			v = argv[++i];
		}
		if (flags[f].kind == CF_STR) {
			a->val[f] = v;
		} else {
			char **m = realloc(a->multi[f], (a->nmulti[f] + 1) * sizeof(*m));
			if (!m)
				return ctr_fail("out of memory");
			m[a->nmulti[f]++] = (char *)v;
			a->multi[f] = m;
		}
	}
	if (ctr_completing_flags()) {
		/* a command's own flags: offer them, and run nothing */
		ctr_complete_flags(flags, nflags);
		return 1;
	}
	return 0;
}

void ctr_args_free(struct ctr_args *a)
{
	for (size_t i = 0; a->multi && i < a->nflags; i++)
		free(a->multi[i]);
	free(a->multi);
	free(a->nmulti);
	free(a->val);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

static ssize_t flag_index(const struct ctr_args *a, const char *name)
{
	return find_flag(a->flags, a->nflags, name, strlen(name));
}

const char *ctr_str(const struct ctr_args *a, const char *name)
{
	ssize_t i = flag_index(a, name);
	return i < 0 ? NULL : a->val[i];
}

int ctr_bool(const struct ctr_args *a, const char *name)
{
	ssize_t i = flag_index(a, name);
	return i >= 0 && a->val[i] != NULL;
}

char **ctr_multi(const struct ctr_args *a, const char *name, size_t *n)
{
	ssize_t i = flag_index(a, name);
	*n = i < 0 ? 0 : a->nmulti[i];
	return i < 0 ? NULL : a->multi[i];
}

/* ---- formats ---- */

char *ctr_human_bytes(int64_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)n;
	int u = 0;
	char *out = NULL;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (asprintf(&out, u ? "%.1f %s" : "%.0f %s", v, units[u]) < 0)
		out = NULL;
	return out;
}

int64_t ctr_duration_ms(const char *s)
{
	/* Go's time.ParseDuration for the units people use: h m s ms us µs ns, fractions */
	double total = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	if (!strcmp(s, "0"))
		return 0;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return -1;
		p = end;
		double mul;
		if (!strncmp(p, "ns", 2))
			mul = 1e-6, p += 2;
		else if (!strncmp(p, "us", 2))
			mul = 1e-3, p += 2;
		else if (!strncmp(p, "\xc2\xb5s", 3))
			mul = 1e-3, p += 3;
		else if (!strncmp(p, "ms", 2))
			mul = 1, p += 2;
		else if (*p == 's')
			mul = 1000, p++;
		else if (*p == 'm')
			mul = 60000, p++;
		else if (*p == 'h')
			mul = 3600000, p++;
		else
			return -1;
		total += v * mul;
	}
	return (int64_t)(total + 0.999);
}

/* ---- subcommand groups ---- */

static char *names_display(const char *names)
{
	struct jbuf b = {0};
	for (const char *p = names; *p; p++) {
		if (*p == ',')
			jb_puts(&b, ", ");
		else
			jb_put(&b, p, 1);
	}
	return b.s ? b.s : strdup("");
}

int ctr_subcmd(struct ctr *c, const char *group, const char *usage, const struct ctr_sub *subs,
	       size_t nsubs, int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	if (ctr_completing()) {
		const char *names[nsubs + 1];
		size_t n = 0;
		ctr_complete_group();
		for (size_t i = 0; i < nsubs; i++) {
			if (name && ctr_name_in(subs[i].names, name, strlen(name)))
				return subs[i].fn ? subs[i].fn(c, argc - 1, argv + 1) : 0;
			if (subs[i].fn)
				names[n++] = subs[i].names;
		}
		names[n++] = "help,h";
		ctr_complete_subs(names, n);
		return 0;
	}
	if (name && strcmp(name, "-h") && strcmp(name, "--help") && strcmp(name, "help") &&
	    strcmp(name, "h")) {
		for (size_t i = 0; i < nsubs; i++)
			if (ctr_name_in(subs[i].names, name, strlen(name)))
				return subs[i].fn ? subs[i].fn(c, argc - 1, argv + 1)
						  : ctr_fail("%s %s is not supported by ctrbox-ctr",
							     group, name);
		fprintf(stderr, "No help topic for '%s'\n", name);
		return 3;
	}
	size_t w = 0;
	for (size_t i = 0; i < nsubs; i++) {
		char *d = names_display(subs[i].names);
		if (d && strlen(d) > w)
			w = strlen(d);
		free(d);
	}
	printf("NAME:\n   ctr %s - %s\n\nUSAGE:\n   ctr %s command [command options] "
	       "[arguments...]\n\nCOMMANDS:\n",
	       group, usage, group);
	for (size_t i = 0; i < nsubs; i++) {
		char *d = names_display(subs[i].names);
		printf("   %-*s  %s\n", (int)w, d ? d : "", subs[i].usage);
		free(d);
	}
	printf("\nOPTIONS:\n   --help, -h  show help\n   \n");
	return 0;
}
