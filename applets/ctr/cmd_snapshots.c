/* ctrbox-ctr snapshots: list, info, usage, prepare, view, commit, remove, mounts, label, tree
 * against containerd's Snapshots service, with ctr's output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctr/ctr.h"
#include "ctr/labels.h"
#include "ctr/pbjson.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "images/v1/images.pb-c.h"
#include <ctrbox/jsonw.h>
#include "snapshots/v1/snapshots.pb-c.h"

#define SNAP_SVC "/containerd.services.snapshots.v1.Snapshots/"

typedef Containerd__Services__Snapshots__V1__Info snap_info;

static const char *kind_name(int k)
{
	switch (k) {
	case CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__VIEW:
		return "View";
	case CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__ACTIVE:
		return "Active";
	case CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__COMMITTED:
		return "Committed";
	}
	return "Unknown";
}

static const char snap_help[] =
    "NAME:\n"
    "   ctr snapshots - manage snapshots\n"
    "\n"
    "USAGE:\n"
    "   ctr snapshots command [command options] [arguments...]\n"
    "\n"
    "COMMANDS:\n"
    "   commit                   commit an active snapshot into the provided name\n"
    "   diff                     get the diff of two snapshots. the default second snapshot is the "
    "first snapshot's parent.\n"
    "   info                     get info about a snapshot\n"
    "   list, ls                 list snapshots\n"
    "   mounts, m, mount         mount gets mount commands for the snapshots\n"
    "   prepare                  prepare a snapshot from a committed snapshot\n"
    "   delete, del, remove, rm  remove snapshots\n"
    "   label                    add labels to content\n"
    "   tree                     display tree view of snapshot branches\n"
    "   unpack                   unpack applies layers from a manifest to a snapshot\n"
    "   usage                    usage snapshots\n"
    "   view                     create a read-only snapshot from a committed snapshot\n"
    "\n"
    "OPTIONS:\n"
    "   --snapshotter value  snapshotter name. Empty value stands for the default value. "
    "[$CONTAINERD_SNAPSHOTTER]\n"
    "   --help, -h           show help\n"
    "   \n";

static const struct {
	const char *sub, *text;
} sub_help[] = {
    {"commit", "NAME:\n"
	       "   ctr snapshots commit - commit an active snapshot into the provided name\n"
	       "\n"
	       "USAGE:\n"
	       "   ctr snapshots commit <key> <active>\n"},
    {"prepare", "NAME:\n"
		"   ctr snapshots prepare - prepare a snapshot from a committed snapshot\n"
		"\n"
		"USAGE:\n"
		"   ctr snapshots prepare [command options] [flags] <key> [<parent>]\n"
		"\n"
		"OPTIONS:\n"
		"   --target value, -t value  mount target path, will print mount, if provided\n"
		"   --mounts                  Print out snapshot mounts as JSON\n"
		"   \n"},
    {"view", "NAME:\n"
	     "   ctr snapshots view - create a read-only snapshot from a committed snapshot\n"
	     "\n"
	     "USAGE:\n"
	     "   ctr snapshots view [command options] [flags] <key> [<parent>]\n"
	     "\n"
	     "OPTIONS:\n"
	     "   --target value, -t value  mount target path, will print mount, if provided\n"
	     "   --mounts                  Print out snapshot mounts as JSON\n"
	     "   \n"},
    {"info", "NAME:\n"
	     "   ctr snapshots info - get info about a snapshot\n"
	     "\n"
	     "USAGE:\n"
	     "   ctr snapshots info <key>\n"},
    {"mounts", "NAME:\n"
	       "   ctr snapshots mounts - mount gets mount commands for the snapshots\n"
	       "\n"
	       "USAGE:\n"
	       "   ctr snapshots mounts <target> <key>\n"},
};

/* cli.ShowSubcommandHelp: the text ctr prints on a wrong argument count (exit 0) */
static int usage_help(const char *sub)
{
	for (size_t i = 0; i < sizeof(sub_help) / sizeof(sub_help[0]); i++)
		if (!strcmp(sub_help[i].sub, sub))
			fputs(sub_help[i].text, stdout);
	return 0;
}

/* ---- walking ---- */

struct walk {
	snap_info **v;
	size_t n;
	int bad;
};

static int on_list(void *data, const uint8_t *msg, size_t len)
{
	struct walk *w = data;
	Containerd__Services__Snapshots__V1__ListSnapshotsResponse *m =
	    containerd__services__snapshots__v1__list_snapshots_response__unpack(NULL, len, msg);
	if (!m) {
		w->bad = 1;
		return 1;
	}
	for (size_t i = 0; i < m->n_info; i++) {
		snap_info **v = realloc(w->v, (w->n + 1) * sizeof(*v));
		if (!v) {
			w->bad = 1;
			break;
		}
		w->v = v;
		/* detach the info from the response so it outlives it */
		w->v[w->n++] = m->info[i];
		m->info[i] = NULL;
	}
	/* free the response (the detached infos are NULL in it now) */
	for (size_t i = 0; i < m->n_info; i++)
		if (m->info[i])
			protobuf_c_message_free_unpacked(&m->info[i]->base, NULL);
	m->n_info = 0;
	containerd__services__snapshots__v1__list_snapshots_response__free_unpacked(m, NULL);
	return w->bad;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		protobuf_c_message_free_unpacked(&w->v[i]->base, NULL);
	free(w->v);
}

static int snap_walk(struct ctr *c, const char *sn, struct walk *w)
{
	Containerd__Services__Snapshots__V1__ListSnapshotsRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__LIST_SNAPSHOTS_REQUEST__INIT;
	char *msg = NULL;
	memset(w, 0, sizeof(*w));
	req.snapshotter = (char *)sn;
	int rc = ctr_call_stream(c, SNAP_SVC "List", &req.base, on_list, w, &msg);
	if (w->bad) {
		free(msg);
		return ctr_fail("failed to decode snapshot list");
	}
	if (rc) {
		if (rc == CTRBOX_DEADLINE_EXCEEDED)
			ctr_fail("context deadline exceeded");
		else if (!(rc == CTRBOX_UNAVAILABLE && !c->cli))
			ctr_fail("%s", ctr_errtext(rc, msg));
		free(msg);
		return 1;
	}
	free(msg);
	return 0;
}

/* ---- output helpers ---- */

static char *time_json(const Google__Protobuf__Timestamp *ts)
{
	if (!ts)
		return strdup("0001-01-01T00:00:00Z");
	return go_time_rfc3339(ts->seconds, ts->nanos);
}

static int cmp_label(const void *a, const void *b)
{
	const Containerd__Services__Snapshots__V1__Info__LabelsEntry *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

/* The document with a newline on stdout ("ctr: out of memory" if the writer ran out). */
static void print_doc(struct ctrbox_jsonw *w)
{
	char *out;
	if (ctrbox_jsonw_finish(w, &out, NULL)) {
		ctr_fail("out of memory");
		return;
	}
	printf("%s\n", out);
	free(out);
}

static void json_time(struct ctrbox_jsonw *w, const Google__Protobuf__Timestamp *ts)
{
	char *t = time_json(ts);
	if (!t)
		ctrbox_jsonw_fail(w, -ENOMEM);
	ctrbox_jsonw_string(w, t);
	free(t);
}

static void print_info_json(snap_info *in)
{
	struct ctrbox_jsonw w;
	ctrbox_jsonw_init(&w, "    ", 0);
	ctrbox_jsonw_object_begin(&w);
	ctrbox_jsonw_key(&w, "Kind");
	ctrbox_jsonw_string(&w, kind_name(in->kind));
	ctrbox_jsonw_key(&w, "Name");
	ctrbox_jsonw_string(&w, in->name);
	if (in->parent && *in->parent) {
		ctrbox_jsonw_key(&w, "Parent");
		ctrbox_jsonw_string(&w, in->parent);
	}
	if (in->n_labels) {
		qsort(in->labels, in->n_labels, sizeof(*in->labels), cmp_label);
		ctrbox_jsonw_key(&w, "Labels");
		ctrbox_jsonw_object_begin(&w);
		for (size_t i = 0; i < in->n_labels; i++) {
			ctrbox_jsonw_key(&w, in->labels[i]->key);
			ctrbox_jsonw_string(&w, in->labels[i]->value);
		}
		ctrbox_jsonw_object_end(&w);
	}
	ctrbox_jsonw_key(&w, "Created");
	json_time(&w, in->created_at);
	ctrbox_jsonw_key(&w, "Updated");
	json_time(&w, in->updated_at);
	ctrbox_jsonw_object_end(&w);
	print_doc(&w);
}

static void print_mounts_cmd(const char *target, Containerd__Types__Mount **m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("mount -t %s %s %s -o ", m[i]->type ? m[i]->type : "",
		       m[i]->source ? m[i]->source : "", target);
		for (size_t k = 0; k < m[i]->n_options; k++)
			printf("%s%s", k ? "," : "", m[i]->options[k]);
		printf("\n");
	}
}

/* A []string as Go marshals it: null when empty. */
static void json_strings(struct ctrbox_jsonw *w, char *const *v, size_t n)
{
	if (!n) {
		ctrbox_jsonw_null(w);
		return;
	}
	ctrbox_jsonw_array_begin(w);
	for (size_t i = 0; i < n; i++)
		ctrbox_jsonw_string(w, v[i]);
	ctrbox_jsonw_array_end(w);
}

static void print_mounts_json(Containerd__Types__Mount **m, size_t n)
{
	struct ctrbox_jsonw w;
	ctrbox_jsonw_init(&w, "    ", 0);
	if (!n) {
		ctrbox_jsonw_null(&w);
		print_doc(&w);
		return;
	}
	ctrbox_jsonw_array_begin(&w);
	for (size_t i = 0; i < n; i++) {
		ctrbox_jsonw_object_begin(&w);
		ctrbox_jsonw_key(&w, "Type");
		ctrbox_jsonw_string(&w, m[i]->type);
		ctrbox_jsonw_key(&w, "Source");
		ctrbox_jsonw_string(&w, m[i]->source);
		ctrbox_jsonw_key(&w, "Options");
		json_strings(&w, m[i]->options, m[i]->n_options);
		ctrbox_jsonw_object_end(&w);
	}
	ctrbox_jsonw_array_end(&w);
	print_doc(&w);
}

static void now_rfc3339(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- subcommands ---- */

static int cmd_ls(struct ctr *c, const char *sn)
{
	struct walk w;
	if (snap_walk(c, sn, &w))
		return 1;
	struct gotabw *t = gotabw_new(stdout, 1, 1);
	gotabw_printf(t, "KEY\tPARENT\tKIND\t\n");
	for (size_t i = 0; i < w.n; i++)
		gotabw_printf(t, "%s\t%s\t%s\t\n", w.v[i]->name ? w.v[i]->name : "",
			      w.v[i]->parent ? w.v[i]->parent : "", kind_name(w.v[i]->kind));
	gotabw_flush(t);
	walk_free(&w);
	return 0;
}

static int snap_usage(struct ctr *c, const char *sn, const char *key, int64_t *size,
		      int64_t *inodes)
{
	Containerd__Services__Snapshots__V1__UsageRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__USAGE_REQUEST__INIT;
	Containerd__Services__Snapshots__V1__UsageResponse *r = NULL;
	req.snapshotter = (char *)sn;
	req.key = (char *)key;
	if (ctr_rpc(c, SNAP_SVC "Usage", &req.base,
		    &containerd__services__snapshots__v1__usage_response__descriptor,
		    (ProtobufCMessage **)&r))
		return 1;
	*size = r->size;
	*inodes = r->inodes;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static void usage_row(struct gotabw *t, const char *key, int64_t size, int64_t inodes, int raw)
{
	if (raw) {
		gotabw_printf(t, "%s\t%lld\t%lld\t\n", key, (long long)size, (long long)inodes);
	} else {
		char *h = ctr_human_bytes(size);
		gotabw_printf(t, "%s\t%s\t%lld\t\n", key, h ? h : "", (long long)inodes);
		free(h);
	}
}

static int cmd_usage(struct ctr *c, const char *sn, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"b", CF_BOOL, NULL}};
	struct ctr_args a;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 1, 1, &a))
		goto out;
	int raw = ctr_bool(&a, "b");
	struct gotabw *t = gotabw_new(stdout, 1, 1);
	gotabw_printf(t, "KEY\tSIZE\tINODES\t\n");
	int64_t size, inodes;
	if (a.argc == 0) {
		struct walk w;
		if (snap_walk(c, sn, &w)) {
			gotabw_flush(t);
			goto out;
		}
		for (size_t i = 0; i < w.n; i++) {
			if (snap_usage(c, sn, w.v[i]->name, &size, &inodes)) {
				walk_free(&w);
				gotabw_flush(t);
				goto out;
			}
			usage_row(t, w.v[i]->name, size, inodes, raw);
		}
		walk_free(&w);
	} else {
		for (int i = 0; i < a.argc; i++) {
			if (snap_usage(c, sn, a.argv[i], &size, &inodes)) {
				gotabw_flush(t);
				goto out;
			}
			usage_row(t, a.argv[i], size, inodes, raw);
		}
	}
	gotabw_flush(t);
	rc = 0;
out:
	ctr_args_free(&a);
	return rc;
}

static int cmd_rm(struct ctr *c, const char *sn, int argc, char **argv)
{
	struct ctr_args a;
	int rc = 0;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a)) {
		ctr_args_free(&a);
		return 1;
	}
	for (int i = 0; i < a.argc && !rc; i++) {
		Containerd__Services__Snapshots__V1__RemoveSnapshotRequest req =
		    CONTAINERD__SERVICES__SNAPSHOTS__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
		char *msg = NULL;
		req.snapshotter = (char *)sn;
		req.key = a.argv[i];
		int r = ctr_call(c, SNAP_SVC "Remove", &req.base, NULL, NULL, &msg);
		if (r) {
			if (!(r == CTRBOX_UNAVAILABLE && !c->cli))
				ctr_fail("failed to remove \"%s\": %s", a.argv[i],
					 ctr_errtext(r, msg));
			rc = 1;
		}
		free(msg);
	}
	ctr_args_free(&a);
	return rc;
}

/* prepare and view */
static int cmd_prepare(struct ctr *c, const char *sn, int argc, char **argv, int view)
{
	static const struct ctr_flag fl[] = {{"target,t", CF_STR, NULL}, {"mounts", CF_BOOL, NULL}};
	struct ctr_args a;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 2, 1, &a))
		goto out;
	if (a.argc < 1 || a.argc > 2) {
		rc = usage_help(view ? "view" : "prepare");
		goto out;
	}
	const char *target = ctr_str(&a, "target");
	Containerd__Services__Snapshots__V1__PrepareSnapshotRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
	Containerd__Services__Snapshots__V1__PrepareSnapshotRequest__LabelsEntry le =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__LABELS_ENTRY__INIT;
	Containerd__Services__Snapshots__V1__PrepareSnapshotRequest__LabelsEntry *lv[1] = {&le};
	Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *r = NULL;
	char now[64];
	now_rfc3339(now, sizeof(now));
	req.snapshotter = (char *)sn;
	req.key = a.argv[0];
	req.parent = a.argc > 1 ? a.argv[1] : "";
	if (!view) {
		le.key = "containerd.io/gc.root";
		le.value = now;
		req.n_labels = 1;
		req.labels = lv;
	}
	/* ViewSnapshotRequest has the same fields and numbers as PrepareSnapshotRequest */
	Containerd__Services__Snapshots__V1__ViewSnapshotRequest vreq =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__VIEW_SNAPSHOT_REQUEST__INIT;
	vreq.snapshotter = req.snapshotter;
	vreq.key = req.key;
	vreq.parent = req.parent;
	if (view) {
		Containerd__Services__Snapshots__V1__ViewSnapshotResponse *vr = NULL;
		if (ctr_rpc(
			c, SNAP_SVC "View", &vreq.base,
			&containerd__services__snapshots__v1__view_snapshot_response__descriptor,
			(ProtobufCMessage **)&vr))
			goto out;
		if (target)
			print_mounts_cmd(target, vr->mounts, vr->n_mounts);
		if (ctr_bool(&a, "mounts"))
			print_mounts_json(vr->mounts, vr->n_mounts);
		protobuf_c_message_free_unpacked(&vr->base, NULL);
	} else {
		if (ctr_rpc(
			c, SNAP_SVC "Prepare", &req.base,
			&containerd__services__snapshots__v1__prepare_snapshot_response__descriptor,
			(ProtobufCMessage **)&r))
			goto out;
		if (target)
			print_mounts_cmd(target, r->mounts, r->n_mounts);
		if (ctr_bool(&a, "mounts"))
			print_mounts_json(r->mounts, r->n_mounts);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	rc = 0;
out:
	ctr_args_free(&a);
	return rc;
}

static int cmd_mounts(struct ctr *c, const char *sn, int argc, char **argv)
{
	struct ctr_args a;
	int rc = 1;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	if (a.argc != 2) {
		rc = usage_help("mounts");
		goto out;
	}
	Containerd__Services__Snapshots__V1__MountsRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__MOUNTS_REQUEST__INIT;
	Containerd__Services__Snapshots__V1__MountsResponse *r = NULL;
	req.snapshotter = (char *)sn;
	req.key = a.argv[1];
	if (ctr_rpc(c, SNAP_SVC "Mounts", &req.base,
		    &containerd__services__snapshots__v1__mounts_response__descriptor,
		    (ProtobufCMessage **)&r))
		goto out;
	print_mounts_cmd(a.argv[0], r->mounts, r->n_mounts);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	rc = 0;
out:
	ctr_args_free(&a);
	return rc;
}

static int cmd_commit(struct ctr *c, const char *sn, int argc, char **argv)
{
	struct ctr_args a;
	int rc = 1;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	if (a.argc != 2) {
		rc = usage_help("commit");
		goto out;
	}
	Containerd__Services__Snapshots__V1__CommitSnapshotRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__COMMIT_SNAPSHOT_REQUEST__INIT;
	Containerd__Services__Snapshots__V1__CommitSnapshotRequest__LabelsEntry le =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__COMMIT_SNAPSHOT_REQUEST__LABELS_ENTRY__INIT;
	Containerd__Services__Snapshots__V1__CommitSnapshotRequest__LabelsEntry *lv[1] = {&le};
	char now[64];
	now_rfc3339(now, sizeof(now));
	le.key = "containerd.io/gc.root";
	le.value = now;
	req.snapshotter = (char *)sn;
	req.name = a.argv[0];
	req.key = a.argv[1];
	req.n_labels = 1;
	req.labels = lv;
	rc = ctr_rpc(c, SNAP_SVC "Commit", &req.base, NULL, NULL);
out:
	ctr_args_free(&a);
	return rc;
}

static int snap_stat(struct ctr *c, const char *sn, const char *key,
		     Containerd__Services__Snapshots__V1__StatSnapshotResponse **r)
{
	Containerd__Services__Snapshots__V1__StatSnapshotRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
	req.snapshotter = (char *)sn;
	req.key = (char *)key;
	return ctr_rpc(c, SNAP_SVC "Stat", &req.base,
		       &containerd__services__snapshots__v1__stat_snapshot_response__descriptor,
		       (ProtobufCMessage **)r);
}

static int cmd_info(struct ctr *c, const char *sn, int argc, char **argv)
{
	struct ctr_args a;
	int rc = 1;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	if (a.argc != 1) {
		rc = usage_help("info");
		goto out;
	}
	Containerd__Services__Snapshots__V1__StatSnapshotResponse *r = NULL;
	if (snap_stat(c, sn, a.argv[0], &r))
		goto out;
	if (r->info)
		print_info_json(r->info);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	rc = 0;
out:
	ctr_args_free(&a);
	return rc;
}

static void print_labels(snap_info *in)
{
	if (in) {
		if (in->n_labels)
			qsort(in->labels, in->n_labels, sizeof(*in->labels), cmp_label);
		for (size_t i = 0; i < in->n_labels; i++)
			printf("%s%s=%s", i ? "," : "", in->labels[i]->key,
			       in->labels[i]->value ? in->labels[i]->value : "");
	}
	printf("\n");
}

/* Snapshots.Update of key's labels (l; an empty value removes the label), then its labels */
static int label_update(struct ctr *c, const char *sn, const char *key, const struct ctr_labels *l,
			size_t nargs)
{
	Containerd__Services__Snapshots__V1__Info__LabelsEntry *ents =
	    calloc(l->n + 1, sizeof(*ents));
	Containerd__Services__Snapshots__V1__Info__LabelsEntry **lv = calloc(l->n + 1, sizeof(*lv));
	size_t ne = 0;
	int rc = 1;
	if (!ents || !lv) {
		ctr_fail("out of memory");
		goto out;
	}
	/* the labels in the order of the argument that last set them */
	for (size_t i = 0; i < nargs; i++)
		for (size_t j = 0; j < l->n; j++)
			if (l->v[j].last == i && *l->v[j].value) {
				ents[ne] = (Containerd__Services__Snapshots__V1__Info__LabelsEntry)
				    CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__LABELS_ENTRY__INIT;
				ents[ne].key = l->v[j].key;
				ents[ne].value = (char *)l->v[j].value;
				lv[ne] = &ents[ne];
				ne++;
			}
	Containerd__Services__Snapshots__V1__UpdateSnapshotRequest req =
	    CONTAINERD__SERVICES__SNAPSHOTS__V1__UPDATE_SNAPSHOT_REQUEST__INIT;
	snap_info info = CONTAINERD__SERVICES__SNAPSHOTS__V1__INFO__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	info.name = (char *)key;
	info.n_labels = ne;
	info.labels = lv;
	mask.n_paths = l->npaths;
	mask.paths = l->paths;
	req.snapshotter = (char *)sn;
	req.info = &info;
	req.update_mask = &mask;
	Containerd__Services__Snapshots__V1__UpdateSnapshotResponse *r = NULL;
	if (ctr_rpc(c, SNAP_SVC "Update", &req.base,
		    &containerd__services__snapshots__v1__update_snapshot_response__descriptor,
		    (ProtobufCMessage **)&r))
		goto out;
	print_labels(r->info);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	rc = 0;
out:
	free(lv);
	free(ents);
	return rc;
}

static int cmd_label(struct ctr *c, const char *sn, int argc, char **argv)
{
	struct ctr_args a;
	struct ctr_labels l;
	int rc = 1;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	const char *key = a.argc ? a.argv[0] : "";
	size_t nl = a.argc > 1 ? (size_t)a.argc - 1 : 0;
	if (nl == 0) {
		Containerd__Services__Snapshots__V1__StatSnapshotResponse *r = NULL;
		if (snap_stat(c, sn, key, &r))
			goto out;
		print_labels(r->info);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		rc = 0;
		goto out;
	}
	if (ctr_labels_parse(&l, a.argv + 1, nl, false)) {
		ctr_fail("out of memory");
		goto out;
	}
	rc = label_update(c, sn, key, &l, nl);
	ctr_labels_free(&l);
out:
	ctr_args_free(&a);
	return rc;
}

static void tree_node(struct walk *w, const char *name, int level)
{
	for (int i = 0; i < level; i++)
		printf("  ");
	printf("%s %s\n", level ? "\\_" : "", name);
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i]->parent && !strcmp(w->v[i]->parent, name))
			tree_node(w, w->v[i]->name, level + 1);
}

static int cmd_tree(struct ctr *c, const char *sn)
{
	struct walk w;
	if (snap_walk(c, sn, &w))
		return 1;
	for (size_t i = 0; i < w.n; i++) {
		const char *p = w.v[i]->parent;
		int root = !p || !*p;
		if (!root) {
			/* a parent that is not listed becomes a root of its own */
			size_t k;
			for (k = 0; k < w.n && strcmp(w.v[k]->name, p); k++)
				;
			if (k == w.n)
				tree_node(&w, p, 0);
			/* (printed once per orphaned child: rare) */
			continue;
		}
		tree_node(&w, w.v[i]->name, 0);
	}
	walk_free(&w);
	return 0;
}

/* go-digest's Parse errors */
static int check_digest(const char *dg)
{
	const char *colon = strchr(dg, ':');
	if (!colon || colon == dg || !colon[1])
		return ctr_fail("invalid checksum digest format");
	size_t al = (size_t)(colon - dg), hl = strlen(colon + 1), want;
	if (al == 6 && !strncmp(dg, "sha256", 6))
		want = 64;
	else if (al == 6 && !strncmp(dg, "sha384", 6))
		want = 96;
	else if (al == 6 && !strncmp(dg, "sha512", 6))
		want = 128;
	else
		return ctr_fail("unsupported digest algorithm");
	if (hl != want)
		return ctr_fail("invalid checksum digest length");
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return ctr_fail("invalid checksum digest format");
	return 0;
}

/* unpack <manifest digest>: the image whose target it is, into --snapshotter */
static int cmd_unpack(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"snapshotter", CF_STR, NULL}};
	struct ctr_args a;
	Containerd__Services__Images__V1__ListImagesRequest req =
	    CONTAINERD__SERVICES__IMAGES__V1__LIST_IMAGES_REQUEST__INIT;
	Containerd__Services__Images__V1__ListImagesResponse *r = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, fl, 1, 1, &a))
		goto out;
	const char *dg = a.argc ? a.argv[0] : "";
	if (check_digest(dg))
		goto out;
	const char *sn = ctr_str(&a, "snapshotter");
	if (!sn || !*sn)
		sn = getenv("CONTAINERD_SNAPSHOTTER");
	if (ctr_rpc(c, "/containerd.services.images.v1.Images/List", &req.base,
		    &containerd__services__images__v1__list_images_response__descriptor,
		    (ProtobufCMessage **)&r))
		goto out;
	for (size_t i = 0; i < r->n_images; i++) {
		Containerd__Types__Descriptor *t = r->images[i]->target;
		if (!t || !t->digest || strcmp(t->digest, dg))
			continue;
		struct ctr_image img;
		printf("unpacking %s (%s)...", dg, t->media_type ? t->media_type : "");
		fflush(stdout);
		if (ctr_image_load(c, r->images[i]->name, &img)) {
			printf("\n");
			goto out;
		}
		int ur = ctr_image_unpack(c, &img, sn);
		ctr_image_free(&img);
		if (ur) {
			printf("\n");
			goto out;
		}
		printf("done\n");
		rc = 0;
		goto out;
	}
	ctr_fail("manifest not found");
out:
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	ctr_args_free(&a);
	return rc;
}

int ctr_cmd_snapshots(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag fl[] = {{"snapshotter", CF_STR, NULL},
					     {"h,help", CF_BOOL, NULL}};
	struct ctr_args a;
	int rc = 1;
	static const char *const subs[] = {
	    "commit", "info", "list,ls", "mounts,m,mount", "prepare", "delete,del,remove,rm",
	    "label",  "tree", "unpack",	 "usage",	   "view",    "help,h"};
	if (ctr_parse_group(argc, argv, fl, 2, &a))
		goto out;
	if (ctr_completing()) {
		size_t i = 0, n = sizeof(subs) / sizeof(subs[0]);
		while (a.argc && i < n - 1 && !ctr_name_in(subs[i], a.argv[0], strlen(a.argv[0])))
			i++;
		if (!a.argc || i == n - 1) {
			ctr_complete_subs(subs, n);
			rc = 0;
			goto out;
		}
		if (!strcmp(a.argv[0], "tree")) { /* the one without flags of its own */
			ctr_complete_flags(NULL, 0);
			rc = 0;
			goto out;
		}
	}
	const char *sn = ctr_str(&a, "snapshotter");
	if (!sn || !*sn)
		sn = getenv("CONTAINERD_SNAPSHOTTER");
	if (a.argc == 0 || ctr_bool(&a, "help") || !strcmp(a.argv[0], "help") ||
	    !strcmp(a.argv[0], "h")) {
		fputs(snap_help, stdout);
		rc = 0;
		goto out;
	}
	const char *sub = a.argv[0];
	/* SnapshotService(""): ctr asks without a namespace, so the namespace's default
	 * snapshotter label never applies here */
	if (!sn || !*sn)
		sn = "overlayfs";
	int sargc = a.argc;
	char **sargv = a.argv;
	if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
		struct ctr_args s;
		rc = ctr_parse(sargc, sargv, NULL, 0, 1, &s);
		ctr_args_free(&s);
		if (!rc)
			rc = cmd_ls(c, sn);
	} else if (!strcmp(sub, "tree")) {
		rc = cmd_tree(c, sn);
	} else if (!strcmp(sub, "info")) {
		rc = cmd_info(c, sn, sargc, sargv);
	} else if (!strcmp(sub, "usage")) {
		rc = cmd_usage(c, sn, sargc, sargv);
	} else if (!strcmp(sub, "prepare")) {
		rc = cmd_prepare(c, sn, sargc, sargv, 0);
	} else if (!strcmp(sub, "view")) {
		rc = cmd_prepare(c, sn, sargc, sargv, 1);
	} else if (!strcmp(sub, "commit")) {
		rc = cmd_commit(c, sn, sargc, sargv);
	} else if (!strcmp(sub, "rm") || !strcmp(sub, "remove") || !strcmp(sub, "delete") ||
		   !strcmp(sub, "del")) {
		rc = cmd_rm(c, sn, sargc, sargv);
	} else if (!strcmp(sub, "mounts") || !strcmp(sub, "mount") || !strcmp(sub, "m")) {
		rc = cmd_mounts(c, sn, sargc, sargv);
	} else if (!strcmp(sub, "label")) {
		rc = cmd_label(c, sn, sargc, sargv);
	} else if (!strcmp(sub, "unpack")) {
		rc = cmd_unpack(c, sargc, sargv);
	} else {
		fprintf(stderr, "No help topic for '%s'\n", sub);
		rc = 3;
	}
out:
	ctr_args_free(&a);
	return rc;
}
