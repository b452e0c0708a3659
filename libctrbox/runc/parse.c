/* Parsers of runc's list and events output, and the events argv. */
#include <ctrbox/json.h>
#include <ctrbox/runc.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every builder in runc.c starts from the global options the same way: build them through
 * the stats builder ("events --stats ID") and swap what follows "events". */
int ctrbox_runc_argv_events(const struct ctrbox_runc *r, const char *id, unsigned interval_s,
			    struct ctrbox_runc_argv *a)
{
	char iv[32];
	int rc;

	if (!id || !*id)
		return -EINVAL;
	rc = ctrbox_runc_argv_stats(r, id, a);
	if (rc < 0)
		return rc;
	/* ... events --stats ID: drop "--stats ID", then [--interval Ns] ID */
	free(a->v[--a->n]);
	free(a->v[--a->n]);
	a->v[a->n] = NULL;
	snprintf(iv, sizeof(iv), "%us", interval_s);
	rc = interval_s ? ctrbox_runc_argv_add(a, "--interval") : 0;
	rc = rc ?: interval_s ? ctrbox_runc_argv_add(a, iv) : 0;
	rc = rc ?: ctrbox_runc_argv_add(a, id);
	if (rc < 0)
		ctrbox_runc_argv_free(a);
	return rc;
}

/* A string member of obj into *out ("" when absent, as Go's zero value). */
static int str_at(const struct ctrbox_json *j, int obj, const char *key, char **out)
{
	int t = ctrbox_json_get(j, obj, key);

	if (t < 0 || ctrbox_json_is_null(j, t))
		*out = strdup("");
	else if (!ctrbox_json_is_string(j, t))
		return -EINVAL;
	else
		*out = ctrbox_json_strdup(j, t);
	return *out ? 0 : errno == EINVAL ? -EINVAL : -ENOMEM;
}

/* A number member (0 when absent); past int64 (a uint64 "no limit") it is UINT64_MAX. */
static int u64_at(const struct ctrbox_json *j, int obj, const char *key, uint64_t *out)
{
	int t = ctrbox_json_get(j, obj, key), rc;
	int64_t v = 0;

	*out = 0;
	if (t < 0 || ctrbox_json_is_null(j, t))
		return 0;
	rc = ctrbox_json_int64(j, t, &v);
	if (rc == -ERANGE) {
		*out = UINT64_MAX;
		return 0;
	}
	*out = (uint64_t)v;
	return rc;
}

static int state_at(const struct ctrbox_json *j, int obj, struct ctrbox_runc_state *st)
{
	uint64_t pid;

	if (!ctrbox_json_is_object(j, obj))
		return -EINVAL;
	return str_at(j, obj, "id", &st->id) ?: u64_at(j, obj, "pid", &pid)
		?: (st->pid = (int)pid, 0) ?: str_at(j, obj, "status", &st->status)
		?: str_at(j, obj, "bundle", &st->bundle) ?: str_at(j, obj, "rootfs", &st->rootfs)
		?: str_at(j, obj, "created", &st->created);
}

void ctrbox_runc_list_free(struct ctrbox_runc_state *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ctrbox_runc_state_free(&v[i]);
	free(v);
}

int ctrbox_runc_parse_list(const char *json, size_t len, struct ctrbox_runc_state **out, size_t *n)
{
	struct ctrbox_json j;
	struct ctrbox_runc_state *v = NULL;
	int rc, count;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if ((rc = ctrbox_json_parse(&j, json, len)) < 0)
		return rc;
	count = ctrbox_json_is_null(&j, 0) ? 0 : ctrbox_json_array_len(&j, 0);
	if (count < 0)
		rc = -EINVAL;
	else if (count > 0 && !(v = calloc((size_t)count, sizeof(*v))))
		rc = -ENOMEM;
	for (; rc == 0 && i < (size_t)count; i++)
		rc = state_at(&j, ctrbox_json_array_at(&j, 0, (int)i), &v[i]);
	ctrbox_json_free(&j);
	if (rc < 0) {
		ctrbox_runc_list_free(v, i);
		return rc;
	}
	*out = v;
	*n = (size_t)count;
	return 0;
}

static int stats_at(const struct ctrbox_json *j, int data, struct ctrbox_runc_stats *s)
{
	int cpu = ctrbox_json_get(j, ctrbox_json_get(j, data, "cpu"), "usage");
	int mem = ctrbox_json_get(j, data, "memory"), pids = ctrbox_json_get(j, data, "pids");
	int mu = ctrbox_json_get(j, mem, "usage");

	return u64_at(j, cpu, "total", &s->cpu_total) ?: u64_at(j, cpu, "kernel", &s->cpu_kernel)
		?: u64_at(j, cpu, "user", &s->cpu_user) ?: u64_at(j, mu, "usage", &s->mem_usage)
		?: u64_at(j, mu, "limit", &s->mem_limit) ?: u64_at(j, mu, "max", &s->mem_max)
		?: u64_at(j, mu, "failcnt", &s->mem_failcnt) ?: u64_at(j, mem, "cache", &s->mem_cache)
		?: u64_at(j, pids, "current", &s->pids_current)
		?: u64_at(j, pids, "limit", &s->pids_limit);
}

int ctrbox_runc_parse_event(const char *line, size_t len, struct ctrbox_runc_event *ev)
{
	struct ctrbox_json j;
	char *type = NULL;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if ((rc = ctrbox_json_parse(&j, line, len)) < 0)
		return rc;
	if (!ctrbox_json_is_object(&j, 0))
		rc = -EINVAL;
	else
		rc = str_at(&j, 0, "type", &type) ?: str_at(&j, 0, "id", &ev->id);
	if (rc == 0) {
		ev->type = !strcmp(type, "stats") ? CTRBOX_RUNC_EVENT_STATS
			   : !strcmp(type, "oom") ? CTRBOX_RUNC_EVENT_OOM
						  : CTRBOX_RUNC_EVENT_OTHER;
		snprintf(ev->type_name, sizeof(ev->type_name), "%s", type);
		if (ev->type == CTRBOX_RUNC_EVENT_STATS)
			rc = stats_at(&j, ctrbox_json_get(&j, 0, "data"), &ev->stats);
	}
	free(type);
	ctrbox_json_free(&j);
	if (rc < 0)
		ctrbox_runc_event_free(ev);
	return rc;
}

void ctrbox_runc_event_free(struct ctrbox_runc_event *ev)
{
	free(ev->id);
	ev->id = NULL;
}
