/* grpc-probe: a test client for gRPC snapshotters built on lib/grpc's client side.
 *
 *   grpc-probe [-n NS] [-s SNAPSHOTTER] SOCKET COMMAND [ARGS...]
 *
 * Snapshot commands (Snapshots service, to ctrbox-snapshotter or to containerd with -n):
 *   prepare KEY [PARENT] | view KEY [PARENT [K=V...]] | mounts KEY
 *                     print "TYPE SOURCE OPT,OPT..." lines (view's labels: e.g. a gc.root, which
 *                     ctr's `snapshots view` does not set, so containerd's GC may take the view)
 *   commit NAME KEY | remove KEY | cleanup
 *   stat KEY          "NAME|PARENT|KIND|k=v,k=v"
 *   update KEY [PATH...] -- [K=V...]   labels update with the given mask paths
 *   list [FILTER...]  one stat line per snapshot, in the server's order
 *   listn [FILTER...] the same, then "list: N message(s)"
 *   usage KEY         "SIZE INODES"
 *   label KEY K=V...  Prepare-time labels: prepare KEY with labels (parent "")
 * Bad input and transport checks:
 *   call PATH HEX     raw request bytes to any method (framed by lib/grpc)
 *   framed PATH HEX   raw bytes as the whole request body (write the 5-byte prefixes yourself)
 *   oversize BYTES    a Prepare whose key is BYTES long
 *   garbage           writes non-HTTP/2 bytes on a raw connection, prints what comes back
 *   concurrent N      N Stat calls at once on one connection; prints the code counts
 *   churn N PREFIX    N rounds of prepare/commit/remove (errors printed, not fatal)
 *   bench N PARENT    N rounds of prepare/commit/remove on PARENT; prints ops/s
 * Exit status: the gRPC code of the (last) call, 0 on success; 100+ for local failures.
 * Errors print as "code=NAME(N) desc=MESSAGE". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ctrbox/loop.h>
#include <ctrbox/ttrpc.h>

#include <ctrbox/grpc.h>
#include "snapshots/v1/snapshots.pb-c.h"
#include <ctrbox/util.h> /* ctrbox_unix_connect */

#define SVC "/containerd.services.snapshots.v1.Snapshots/"

static struct ctrbox_loop *L;
static struct ctrbox_grpc_client *C;
static const char *snapshotter = "ctrbox";
static struct ctrbox_kv md[1];
static size_t nmd;

static int report(int code, char *msg)
{
	if (code < 0) {
		printf("error: %s\n", strerror(-code));
		free(msg);
		return 101;
	}
	if (code)
		printf("code=%s(%d) desc=%s\n", ctrbox_code_name(code), code, msg ? msg : "");
	free(msg);
	return code;
}

static int call(const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp)
{
	char path[128];
	char *msg = NULL;
	snprintf(path, sizeof(path), SVC "%s", method);
	int rc = ctrbox_grpc_client_call_sync(C, L, path, req, md, nmd, 30000, out, resp, NULL,
					      NULL, &msg);
	if (rc) {
		if (resp && *resp) {
			protobuf_c_message_free_unpacked(*resp, NULL);
			*resp = NULL;
		}
		return report(rc, msg);
	}
	free(msg);
	return 0;
}

static void print_mounts(size_t n, Containerd__Types__Mount **m)
{
	for (size_t i = 0; i < n; i++) {
		printf("%s %s ", m[i]->type, m[i]->source);
		for (size_t j = 0; j < m[i]->n_options; j++)
			printf("%s%s", j ? "," : "", m[i]->options[j]);
		printf("\n");
	}
}

static const char *kind_name(int k)
{
	static const char *const n[] = {"unknown", "view", "active", "committed"};
	return k >= 0 && k <= 3 ? n[k] : "?";
}

static int cmp_label(const void *a, const void *b)
{
	const Containerd__Services__Snapshots__V1__Info__LabelsEntry *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

static void print_info(const Containerd__Services__Snapshots__V1__Info *in)
{
	printf("%s|%s|%s|", in->name, in->parent, kind_name(in->kind));
	if (in->n_labels)
		qsort(in->labels, in->n_labels, sizeof(*in->labels), cmp_label);
	for (size_t i = 0; i < in->n_labels; i++)
		printf("%s%s=%s", i ? "," : "", in->labels[i]->key, in->labels[i]->value);
	printf("\n");
}

typedef Containerd__Services__Snapshots__V1__PrepareSnapshotRequest__LabelsEntry PLabel;

static int do_prepare(const char *method, const char *key, const char *parent, int nl, char **kv)
{
	Containerd__Services__Snapshots__V1__PrepareSnapshotRequest r =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
	PLabel *l = calloc((size_t)nl + 1, sizeof(*l));
	PLabel **pl = calloc((size_t)nl + 1, sizeof(*pl));
	for (int i = 0; i < nl; i++) {
		PLabel init =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__LABELS_ENTRY__INIT;
		l[i] = init;
		l[i].key = kv[i];
		char *eq = strchr(kv[i], '=');
		l[i].value = eq ? (*eq = 0, eq + 1) : "";
		pl[i] = &l[i];
	}
	r.snapshotter = (char *)snapshotter;
	r.key = (char *)key;
	r.parent = (char *)(parent ? parent : "");
	r.n_labels = (size_t)nl;
	r.labels = pl;
	/* View's request has the same fields and numbers as Prepare's */
	ProtobufCMessage *resp = NULL;
	int rc = call(method, &r.base,
		      &containerd__services__snapshots__v1__prepare_snapshot_response__descriptor,
		      &resp);
	free(l);
	free(pl);
	if (rc)
		return rc;
	Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *pr = (void *)resp;
	print_mounts(pr->n_mounts, pr->mounts);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

static int key_call(const char *method, const char *key, const ProtobufCMessageDescriptor *out,
		    ProtobufCMessage **resp)
{
	/* Mounts, Remove, Stat and Usage requests are all {1 snapshotter, 2 key} */
	Containerd__Services__Snapshots__V1__StatSnapshotRequest r =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
	r.snapshotter = (char *)snapshotter;
	r.key = (char *)key;
	return call(method, &r.base, out, resp);
}

static int do_commit(const char *name, const char *key)
{
	Containerd__Services__Snapshots__V1__CommitSnapshotRequest r =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__COMMIT_SNAPSHOT_REQUEST__INIT;
	Containerd__Services__Snapshots__V1__CommitSnapshotRequest__LabelsEntry
	    root = CONTAINERD__SERVICES__SNAPSHOTS__V1__COMMIT_SNAPSHOT_REQUEST__LABELS_ENTRY__INIT,
	    *proot = &root;
	root.key = "containerd.io/gc.root"; /* see do_rounds */
	root.value = "grpc-probe";
	r.n_labels = 1;
	r.labels = &proot;
	r.snapshotter = (char *)snapshotter;
	r.name = (char *)name;
	r.key = (char *)key;
	return call("Commit", &r.base, NULL, NULL);
}

static int list_msg(void *data, const uint8_t *p, size_t len)
{
	int *n = data;
	Containerd__Services__Snapshots__V1__ListSnapshotsResponse *r =
	    containerd__services__snapshots__v1__list_snapshots_response__unpack(NULL, len, p);
	if (!r) {
		printf("error: bad List message\n");
		return 1;
	}
	for (size_t i = 0; i < r->n_info; i++)
		print_info(r->info[i]);
	*n += 1;
	containerd__services__snapshots__v1__list_snapshots_response__free_unpacked(r, NULL);
	return 0;
}

static int list_quiet;

static int do_list(int n, char **filters)
{
	Containerd__Services__Snapshots__V1__ListSnapshotsRequest r =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__LIST_SNAPSHOTS_REQUEST__INIT;
	char *msg = NULL;
	int nmsgs = 0;
	r.snapshotter = (char *)snapshotter;
	r.n_filters = (size_t)n;
	r.filters = filters;
	int rc = ctrbox_grpc_client_call_sync(C, L, SVC "List", &r.base, md, nmd, 30000, NULL, NULL,
					      list_msg, &nmsgs, &msg);
	if (!list_quiet)
		printf("list: %d message(s)\n", nmsgs);
	return report(rc, msg);
}

static int do_update(const char *key, int argc, char **argv)
{
	Containerd__Services__Snapshots__V1__UpdateSnapshotRequest r =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__UPDATE_SNAPSHOT_REQUEST__INIT;
	Containerd__Services__Snapshots__V1__Info info =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	Containerd__Services__Snapshots__V1__Info__LabelsEntry l[64], *pl[64];
	char *paths[64];
	int i = 0;
	for (; i < argc && strcmp(argv[i], "--") != 0 && mask.n_paths < 64; i++)
		paths[mask.n_paths++] = argv[i];
	for (i++; i < argc && info.n_labels < 64; i++) {
		Containerd__Services__Snapshots__V1__Info__LabelsEntry init =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__LABELS_ENTRY__INIT;
		l[info.n_labels] = init;
		l[info.n_labels].key = argv[i];
		char *eq = strchr(argv[i], '=');
		l[info.n_labels].value = eq ? (*eq = 0, eq + 1) : "";
		pl[info.n_labels] = &l[info.n_labels];
		info.n_labels++;
	}
	info.name = (char *)key;
	info.labels = pl;
	mask.paths = paths;
	r.snapshotter = (char *)snapshotter;
	r.info = &info;
	r.update_mask = &mask;
	ProtobufCMessage *resp = NULL;
	int rc =
	    call("Update", &r.base,
		 &containerd__services__snapshots__v1__update_snapshot_response__descriptor, &resp);
	if (rc)
		return rc;
	print_info(((Containerd__Services__Snapshots__V1__UpdateSnapshotResponse *)resp)->info);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

static int hexdecode(const char *h, uint8_t **out, size_t *len)
{
	size_t n = strlen(h) / 2;
	uint8_t *b = malloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)v;
	}
	*out = b;
	*len = n;
	return 0;
}

struct raw_ctx {
	int done, code;
	char *msg;
	size_t nmsgs;
};

static int raw_msg(void *data, const uint8_t *p, size_t len)
{
	struct raw_ctx *x = data;
	(void)p;
	printf("message %zu bytes\n", len);
	x->nmsgs++;
	return 0;
}

static void raw_done(void *data, int code, const char *msg)
{
	struct raw_ctx *x = data;
	x->done++;
	x->code = code;
	free(x->msg);
	x->msg = strdup(msg);
}

/* framed 0: lib/grpc adds the 5-byte prefix; framed 1: the bytes go on the wire as they are
 * (hand-made prefixes: compressed flag, lengths that lie). */
static int do_raw(const char *path, const uint8_t *b, size_t len, int framed)
{
	struct raw_ctx x = {0};
	struct ctrbox_grpc_stream *st;
	int rc = ctrbox_grpc_client_start(C, path, md, nmd, 30000, raw_msg, raw_done, &x, &st);
	if (!rc)
		rc = framed ? ctrbox_grpc_stream_send_framed(st, b, len)
			    : ctrbox_grpc_stream_send(st, b, len);
	if (!rc)
		rc = ctrbox_grpc_stream_close_send(st);
	if (rc)
		return report(rc, NULL);
	while (!x.done)
		ctrbox_loop_run_until(L, &x.done, 0);
	return report(x.code, x.msg);
}

static void conc_done(void *data, int code, const char *msg)
{
	int *counts = data;
	(void)msg;
	counts[code >= 0 && code < 17 ? code : 2]++;
	counts[17]++;
}

static int do_concurrent(int n)
{
	int counts[18] = {0};
	Containerd__Services__Snapshots__V1__StatSnapshotRequest r =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
	r.snapshotter = (char *)snapshotter;
	r.key = "no-such-key";
	size_t len = protobuf_c_message_get_packed_size(&r.base);
	uint8_t *b = malloc(len + 1);
	protobuf_c_message_pack(&r.base, b);
	int started = 0;
	for (int i = 0; i < n; i++) {
		int rc = ctrbox_grpc_client_call_raw(C, SVC "Stat", b, len, md, nmd, 30000, NULL,
						     conc_done, counts);
		if (rc == -EAGAIN) {
			/* stream ids or concurrency exhausted: let some finish */
			int never = 0;
			ctrbox_loop_run_until(L, &never, ctrbox_loop_now_ms() + 10);
			i--;
			continue;
		}
		if (rc)
			return report(rc, NULL);
		started++;
	}
	free(b);
	int never = 0;
	while (counts[17] < started)
		ctrbox_loop_run_until(L, &never, ctrbox_loop_now_ms() + 50);
	for (int c = 0; c < 17; c++)
		if (counts[c])
			printf("%s %d\n", ctrbox_code_name(c), counts[c]);
	return 0;
}

static int do_garbage(const char *sock)
{
	int fd = ctrbox_unix_connect(sock, 1);
	if (fd < 0)
		return report(fd, NULL);
	const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nthis is not http/2 at all..........";
	if (write(fd, junk, sizeof(junk) - 1) < 0)
		return report(-errno, NULL);
	char buf[4096];
	size_t total = 0;
	ssize_t r;
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)r;
	printf("server sent %zu bytes then %s\n", total, r == 0 ? "closed" : strerror(errno));
	close(fd);
	return r == 0 ? 0 : 102;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_rounds(int n, const char *prefix, const char *parent, int strict)
{
	char key[256], name[256];
	double t0 = now_s();
	int errors = 0;
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s/active-%d-%d", prefix, getpid(), i);
		snprintf(name, sizeof(name), "%s/committed-%d-%d", prefix, getpid(), i);
		Containerd__Services__Snapshots__V1__PrepareSnapshotRequest r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
		/* through containerd, a snapshot without a lease or a gc.root label may be
		 * garbage-collected between Prepare and Commit (ctr adds the same label) */
		PLabel root =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__LABELS_ENTRY__INIT;
		PLabel *proot = &root;
		root.key = "containerd.io/gc.root";
		root.value = "grpc-probe";
		r.snapshotter = (char *)snapshotter;
		r.key = key;
		r.parent = (char *)parent;
		r.n_labels = 1;
		r.labels = &proot;
		ProtobufCMessage *resp = NULL;
		int rc = call(
		    "Prepare", &r.base,
		    &containerd__services__snapshots__v1__prepare_snapshot_response__descriptor,
		    &resp);
		if (resp)
			protobuf_c_message_free_unpacked(resp, NULL);
		if (!rc)
			rc = do_commit(name, key);
		if (!rc)
			rc = key_call("Remove", name, NULL, NULL);
		if (rc) {
			errors++;
			if (strict || rc >= 100 || rc == CTRBOX_UNAVAILABLE)
				return rc;
		}
	}
	double dt = now_s() - t0;
	printf("%d rounds in %.3f s: %.1f prepare+commit+remove/s (%.1f ops/s), %d errors\n", n, dt,
	       n / dt, 3 * n / dt, errors);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;
	const char *ns = NULL;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-n"))
			ns = argv[i + 1];
		else if (!strcmp(argv[i], "-s"))
			snapshotter = argv[i + 1];
	}
	if (argc - i < 2) {
		fprintf(stderr,
			"usage: grpc-probe [-n NS] [-s SNAPSHOTTER] SOCKET COMMAND [ARGS]\n");
		return 100;
	}
	const char *sock = argv[i], *cmd = argv[i + 1];
	char **a = argv + i + 2;
	int na = argc - i - 2;
	if (ns) {
		md[0] = (struct ctrbox_kv){"containerd-namespace", ns};
		nmd = 1;
	}
	if (!strcmp(cmd, "garbage"))
		return do_garbage(sock);
	if (ctrbox_loop_new(&L) || ctrbox_grpc_client_connect(L, sock, &C)) {
		printf("error: cannot connect to %s\n", sock);
		return 101;
	}
	int rc = 100;
	if (!strcmp(cmd, "prepare") && na >= 1)
		rc = do_prepare("Prepare", a[0], na > 1 ? a[1] : "", 0, NULL);
	else if (!strcmp(cmd, "view") && na >= 1)
		rc = do_prepare("View", a[0], na > 1 ? a[1] : "", na > 2 ? na - 2 : 0, a + 2);
	else if (!strcmp(cmd, "label") && na >= 1)
		rc = do_prepare("Prepare", a[0], "", na - 1, a + 1);
	else if (!strcmp(cmd, "mounts") && na == 1) {
		ProtobufCMessage *resp = NULL;
		rc = key_call("Mounts", a[0],
			      &containerd__services__snapshots__v1__mounts_response__descriptor,
			      &resp);
		if (!rc) {
			Containerd__Services__Snapshots__V1__MountsResponse *m = (void *)resp;
			print_mounts(m->n_mounts, m->mounts);
			protobuf_c_message_free_unpacked(resp, NULL);
		}
	} else if (!strcmp(cmd, "commit") && na == 2)
		rc = do_commit(a[0], a[1]);
	else if (!strcmp(cmd, "remove") && na == 1)
		rc = key_call("Remove", a[0], NULL, NULL);
	else if (!strcmp(cmd, "stat") && na == 1) {
		ProtobufCMessage *resp = NULL;
		rc = key_call(
		    "Stat", a[0],
		    &containerd__services__snapshots__v1__stat_snapshot_response__descriptor,
		    &resp);
		if (!rc) {
			print_info(
			    ((Containerd__Services__Snapshots__V1__StatSnapshotResponse *)resp)
				->info);
			protobuf_c_message_free_unpacked(resp, NULL);
		}
	} else if (!strcmp(cmd, "usage") && na == 1) {
		ProtobufCMessage *resp = NULL;
		rc = key_call("Usage", a[0],
			      &containerd__services__snapshots__v1__usage_response__descriptor,
			      &resp);
		if (!rc) {
			Containerd__Services__Snapshots__V1__UsageResponse *u = (void *)resp;
			printf("%lld %lld\n", (long long)u->size, (long long)u->inodes);
			protobuf_c_message_free_unpacked(resp, NULL);
		}
	} else if (!strcmp(cmd, "update") && na >= 1)
		rc = do_update(a[0], na - 1, a + 1);
	else if (!strcmp(cmd, "list") || !strcmp(cmd, "listn")) {
		list_quiet = !strcmp(cmd, "list");
		rc = do_list(na, a);
	} else if (!strcmp(cmd, "cleanup")) {
		Containerd__Services__Snapshots__V1__CleanupRequest r =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__CLEANUP_REQUEST__INIT;
		r.snapshotter = (char *)snapshotter;
		rc = call("Cleanup", &r.base, NULL, NULL);
	} else if ((!strcmp(cmd, "call") || !strcmp(cmd, "framed")) && na == 2) {
		uint8_t *b;
		size_t len;
		if (hexdecode(a[1], &b, &len))
			rc = 100;
		else {
			rc = do_raw(a[0], b, len, cmd[0] == 'f');
			free(b);
		}
	} else if (!strcmp(cmd, "oversize") && na == 1) {
		size_t n = strtoul(a[0], NULL, 10);
		ctrbox_grpc_client_set_max_message(C, CTRBOX_GRPC_DEFAULT_MAX_MESSAGE, n + 1024);
		char *key = malloc(n + 1);
		memset(key, 'k', n);
		key[n] = 0;
		rc = do_prepare("Prepare", key, "", 0, NULL);
		free(key);
	} else if (!strcmp(cmd, "concurrent") && na == 1)
		rc = do_concurrent(atoi(a[0]));
	else if (!strcmp(cmd, "churn") && na == 2)
		rc = do_rounds(atoi(a[0]), a[1], "", 0);
	else if (!strcmp(cmd, "bench") && na == 2)
		rc = do_rounds(atoi(a[0]), "bench", a[1], 1);
	else
		fprintf(stderr, "grpc-probe: bad command or arguments: %s\n", cmd);
	ctrbox_grpc_client_free(C);
	ctrbox_loop_free(L);
	return rc;
}
