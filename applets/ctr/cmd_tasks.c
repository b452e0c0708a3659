/* ctr tasks: list, kill, delete, ps, pause, resume, metrics, plus `wait` (a ctrbox extension);
 * start and exec live in cmd_run.c. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "containers/v1/containers.pb-c.h"
#include "ctr/container.h"
#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include "runc/options.pb-c.h"
#include "tasks/v1/tasks.pb-c.h"

typedef Containerd__V1__Types__Process Process;

/* Tasks.Get of the task (exec_id NULL) or one of its processes; ctr's messages on failure. */
static int get_process(struct ctr *c, const char *id, const char *exec_id, ProtobufCMessage **resp,
		       char **err)
{
	Containerd__Services__Tasks__V1__GetRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
	char *msg = NULL;
	req.container_id = (char *)id;
	if (exec_id)
		req.exec_id = (char *)exec_id;
	int code = cx_call(c, "/containerd.services.tasks.v1.Tasks/Get", &req.base,
			   &containerd__services__tasks__v1__get_response__descriptor, resp, &msg);
	if (!code) {
		free(msg);
		return 0;
	}
	const char *m = msg && *msg ? msg : ctrbox_code_name(code);
	if (code == CTRBOX_NOT_FOUND) {
		if (asprintf(err, "%s: %s",
			     exec_id ? "no running process found" : "no running task found", m) < 0)
			*err = NULL;
	} else {
		*err = strdup(m);
	}
	free(msg);
	return 1;
}

/* LoadContainer + container.Task(ctx, nil). 0, or 1 after printing. */
static int load_task(struct ctr *c, const char *id, ProtobufCMessage **task)
{
	char *err = NULL;
	if (ctr_container_get(c, id, NULL, &err) || get_process(c, id, NULL, task, &err)) {
		cx_fail(c, err ? err : "unknown error");
		free(err);
		return 1;
	}
	return 0;
}

/* ---- list ---- */

static int t_list(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"quiet,q", CF_BOOL, NULL}};
	struct ctr_args a;
	ProtobufCMessage *resp = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 1, 1, &a))
		goto out;
	Containerd__Services__Tasks__V1__ListTasksRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__LIST_TASKS_REQUEST__INIT;
	if (cx_rpc(c, "/containerd.services.tasks.v1.Tasks/List", &req.base,
		   &containerd__services__tasks__v1__list_tasks_response__descriptor, &resp))
		goto out;
	const Containerd__Services__Tasks__V1__ListTasksResponse *r = (const void *)resp;
	rc = 0;
	if (ctr_bool(&a, "quiet")) {
		for (size_t i = 0; i < r->n_tasks; i++)
			printf("%s\n", r->tasks[i]->id);
		goto out;
	}
	struct gotabw *t = gotabw_new(stdout, 4, 4);
	gotabw_printf(t, "TASK\tPID\tSTATUS\t\n");
	for (size_t i = 0; i < r->n_tasks; i++)
		gotabw_printf(t, "%s\t%u\t%s\n", r->tasks[i]->id, r->tasks[i]->pid,
			      ctr_task_status(r->tasks[i]->status, 1));
	gotabw_flush(t);
out:
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

/* ---- kill ---- */

/* moby/sys/signal.ParseSignal: a number, or a name with or without SIG (any case). */
static int parse_signal(const char *raw)
{
	static const struct {
		const char *name;
		int sig;
	} map[] = {
	    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},	 {"CHLD", SIGCHLD},
	    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},	 {"HUP", SIGHUP},
	    {"ILL", SIGILL},   {"INT", SIGINT},	  {"IO", SIGIO},	 {"IOT", SIGIOT},
	    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},	 {"PROF", SIGPROF},
	    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},	 {"STKFLT", SIGSTKFLT},
	    {"STOP", SIGSTOP}, {"SYS", SIGSYS},	  {"TERM", SIGTERM},	 {"TRAP", SIGTRAP},
	    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},	 {"URG", SIGURG},
	    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
	    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
	};
	char *end;
	long n = strtol(raw, &end, 10);
	if (*raw && !*end)
		return n == 0 || n < 0 || n > 255 ? -1 : (int)n;
	char up[64];
	size_t i = 0;
	for (; raw[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)raw[i]);
	up[i] = 0;
	const char *s = !strncmp(up, "SIG", 3) ? up + 3 : up;
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
		if (!strcmp(s, map[k].name))
			return map[k].sig;
	/* RTMIN, RTMIN+n, RTMAX, RTMAX-n (Go's table spans 34..64) */
	if (!strcmp(s, "RTMIN"))
		return 34;
	if (!strcmp(s, "RTMAX"))
		return 64;
	if (!strncmp(s, "RTMIN+", 6)) {
		long k = strtol(s + 6, &end, 10);
		if (!*end && k >= 1 && k <= 15)
			return 34 + (int)k;
	}
	if (!strncmp(s, "RTMAX-", 6)) {
		long k = strtol(s + 6, &end, 10);
		if (!*end && k >= 1 && k <= 14)
			return 64 - (int)k;
	}
	return -1;
}

static int t_kill(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {
	    {"signal,s", CF_STR, ""}, {"exec-id", CF_STR, ""}, {"all,a", CF_BOOL, NULL}};
	struct ctr_args a;
	ProtobufCMessage *cresp = NULL, *tresp = NULL;
	char *err = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 3, 1, &a))
		goto out;
	if (a.argc < 1 || !*a.argv[0]) {
		ctr_fail("container id must be provided");
		goto out;
	}
	const char *id = a.argv[0];
	const char *exec_id = ctr_str(&a, "exec-id");
	const char *sigs = ctr_str(&a, "signal");
	int all = ctr_bool(&a, "all");
	if (all && exec_id && *exec_id) {
		ctr_fail("specify an exec-id or all; not both");
		goto out;
	}
	if (ctr_container_get(c, id, &cresp, &err)) {
		cx_fail(c, err);
		goto out;
	}
	int sig = SIGTERM;
	if (sigs && *sigs) {
		sig = parse_signal(sigs);
		if (sig < 0) {
			ctr_fail("invalid signal: %s", sigs);
			goto out;
		}
	} else {
		const Containerd__Services__Containers__V1__Container *ct =
		    ((Containerd__Services__Containers__V1__GetContainerResponse *)cresp)
			->container;
		for (size_t i = 0; ct && i < ct->n_labels; i++) {
			if (strcmp(ct->labels[i]->key, "io.containerd.image.config.stop-signal"))
				continue;
			sig = parse_signal(ct->labels[i]->value);
			if (sig < 0) {
				ctr_fail("invalid signal: %s", ct->labels[i]->value);
				goto out;
			}
		}
	}
	if (get_process(c, id, NULL, &tresp, &err)) {
		cx_fail(c, err);
		goto out;
	}
	Containerd__Services__Tasks__V1__KillRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__KILL_REQUEST__INIT;
	req.container_id = (char *)id;
	req.signal = (uint32_t)sig;
	req.all = all;
	if (exec_id && *exec_id)
		req.exec_id = (char *)exec_id;
	rc = cx_rpc(c, "/containerd.services.tasks.v1.Tasks/Kill", &req.base, NULL, NULL);
out:
	free(err);
	if (cresp)
		protobuf_c_message_free_unpacked(cresp, NULL);
	if (tresp)
		protobuf_c_message_free_unpacked(tresp, NULL);
	ctr_args_free(&a);
	return rc;
}

/* ---- delete ---- */

/* WithProcessKill: SIGKILL to all, then wait for the exit (NotFound / FailedPrecondition from
 * Kill are fine: the process is already gone). */
static int process_kill(struct ctr *c, const char *id, const char *exec_id, char **err)
{
	Containerd__Services__Tasks__V1__KillRequest kreq =
	    CONTAINERD__SERVICES__TASKS__V1__KILL_REQUEST__INIT;
	kreq.container_id = (char *)id;
	if (exec_id)
		kreq.exec_id = (char *)exec_id;
	kreq.signal = SIGKILL;
	kreq.all = 1;
	char *msg = NULL;
	int code =
	    cx_call(c, "/containerd.services.tasks.v1.Tasks/Kill", &kreq.base, NULL, NULL, &msg);
	if (code && code != CTRBOX_NOT_FOUND && code != CTRBOX_FAILED_PRECONDITION) {
		*err = msg && *msg ? msg : strdup(ctrbox_code_name(code));
		return 1;
	}
	free(msg);
	msg = NULL;
	Containerd__Services__Tasks__V1__WaitRequest wreq =
	    CONTAINERD__SERVICES__TASKS__V1__WAIT_REQUEST__INIT;
	wreq.container_id = (char *)id;
	if (exec_id)
		wreq.exec_id = (char *)exec_id;
	ProtobufCMessage *wresp = NULL;
	code = cx_call(c, "/containerd.services.tasks.v1.Tasks/Wait", &wreq.base,
		       &containerd__services__tasks__v1__wait_response__descriptor, &wresp, &msg);
	if (wresp)
		protobuf_c_message_free_unpacked(wresp, NULL);
	if (code && code != CTRBOX_NOT_FOUND) {
		*err = msg && *msg ? msg : strdup(ctrbox_code_name(code));
		return 1;
	}
	free(msg);
	return 0;
}

/* task.Delete (exec_id NULL) or process.Delete; *exit_status on success. */
static int delete_one(struct ctr *c, const char *id, const char *exec_id, int force,
		      uint32_t *exit_status, char **err)
{
	ProtobufCMessage *g = NULL, *resp = NULL;
	char *msg = NULL;
	int code;
	if (force && process_kill(c, id, exec_id, err))
		return 1;
	Containerd__Services__Tasks__V1__GetRequest greq =
	    CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
	greq.container_id = (char *)id;
	if (exec_id)
		greq.exec_id = (char *)exec_id;
	code = cx_call(c, "/containerd.services.tasks.v1.Tasks/Get", &greq.base,
		       &containerd__services__tasks__v1__get_response__descriptor, &g, &msg);
	if (code && (code == CTRBOX_NOT_FOUND || exec_id)) {
		*err = msg && *msg ? msg : strdup(ctrbox_code_name(code));
		return 1;
	}
	free(msg);
	msg = NULL;
	const Process *p = g ? ((Containerd__Services__Tasks__V1__GetResponse *)g)->process : NULL;
	int st = p ? (int)p->status : 0;
	if (exec_id) {
		if (st == CONTAINERD__V1__TYPES__STATUS__RUNNING ||
		    st == CONTAINERD__V1__TYPES__STATUS__PAUSED ||
		    st == CONTAINERD__V1__TYPES__STATUS__PAUSING) {
			if (asprintf(err,
				     "current process state: %s, process must be stopped before "
				     "deletion: failed precondition",
				     ctr_task_status(st, 0)) < 0)
				*err = NULL;
			goto fail;
		}
		Containerd__Services__Tasks__V1__DeleteProcessRequest req =
		    CONTAINERD__SERVICES__TASKS__V1__DELETE_PROCESS_REQUEST__INIT;
		req.container_id = (char *)id;
		req.exec_id = (char *)exec_id;
		code = cx_call(c, "/containerd.services.tasks.v1.Tasks/DeleteProcess", &req.base,
			       &containerd__services__tasks__v1__delete_response__descriptor, &resp,
			       &msg);
	} else {
		int ok = st == CONTAINERD__V1__TYPES__STATUS__STOPPED ||
			 st == CONTAINERD__V1__TYPES__STATUS__UNKNOWN ||
			 (st == CONTAINERD__V1__TYPES__STATUS__CREATED && p && p->pid == 0);
		if (!ok) {
			if (asprintf(
				err,
				"task must be stopped before deletion: %s: failed precondition",
				ctr_task_status(st, 0)) < 0)
				*err = NULL;
			goto fail;
		}
		Containerd__Services__Tasks__V1__DeleteTaskRequest req =
		    CONTAINERD__SERVICES__TASKS__V1__DELETE_TASK_REQUEST__INIT;
		req.container_id = (char *)id;
		code = cx_call(c, "/containerd.services.tasks.v1.Tasks/Delete", &req.base,
			       &containerd__services__tasks__v1__delete_response__descriptor, &resp,
			       &msg);
	}
	if (code) {
		*err = msg && *msg ? msg : strdup(ctrbox_code_name(code));
		msg = NULL;
		goto fail;
	}
	*exit_status = ((Containerd__Services__Tasks__V1__DeleteResponse *)resp)->exit_status;
	free(msg);
	protobuf_c_message_free_unpacked(resp, NULL);
	if (g)
		protobuf_c_message_free_unpacked(g, NULL);
	return 0;
fail:
	free(msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	if (g)
		protobuf_c_message_free_unpacked(g, NULL);
	return 1;
}

static int t_delete(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"force,f", CF_BOOL, NULL},
						{"exec-id", CF_STR, ""}};
	struct ctr_args a;
	char *first = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 2, 1, &a))
		goto out;
	if (!ctr_client(c))
		goto out;
	const char *exec_id = ctr_str(&a, "exec-id");
	int force = ctr_bool(&a, "force");
	if (exec_id && *exec_id) {
		const char *id = a.argc ? a.argv[0] : "";
		char *err = NULL;
		ProtobufCMessage *t = NULL;
		uint32_t ec = 0;
		if (load_task(c, id, &t))
			goto out;
		protobuf_c_message_free_unpacked(t, NULL);
		if (get_process(c, id, exec_id, &t, &err)) {
			cx_fail(c, err);
			free(err);
			goto out;
		}
		protobuf_c_message_free_unpacked(t, NULL);
		if (delete_one(c, id, exec_id, force, &ec, &err)) {
			cx_fail(c, err ? err : "unknown error");
			free(err);
			goto out;
		}
		rc = (int)(ec & 0xff);
		if (ec && !rc)
			rc = 1; /* os.Exit keeps the low byte only */
		goto out;
	}
	for (int i = 0; i < a.argc; i++) {
		const char *id = a.argv[i];
		char *err = NULL;
		ProtobufCMessage *t = NULL;
		uint32_t ec = 0;
		if (ctr_container_get(c, id, NULL, &err) || get_process(c, id, NULL, &t, &err)) {
			const char *m = err ? err : "unknown error";
			if (!first)
				first = strdup(m);
			ctr_log("error", m, "failed to load task from %s", id);
			free(err);
			continue;
		}
		protobuf_c_message_free_unpacked(t, NULL);
		if (delete_one(c, id, NULL, force, &ec, &err)) {
			const char *m = err ? err : "unknown error";
			if (!first)
				first = strdup(m);
			ctr_log("error", m, "unable to delete %s", id);
			free(err);
			continue;
		}
		if (ec)
			ctr_log("warning", NULL, "task %s exit with non-zero exit code %d", id,
				(int)ec);
	}
	if (first) {
		ctr_fail("%s", first);
		free(first);
		goto out;
	}
	rc = 0;
out:
	ctr_args_free(&a);
	return rc;
}

/* ---- ps ---- */

static int t_ps(struct ctr *c, int argc, char **argv)
{
	struct ctr_args a;
	ProtobufCMessage *t = NULL, *resp = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	if (a.argc < 1 || !*a.argv[0]) {
		ctr_fail("container id must be provided");
		goto out;
	}
	if (load_task(c, a.argv[0], &t))
		goto out;
	Containerd__Services__Tasks__V1__ListPidsRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__LIST_PIDS_REQUEST__INIT;
	req.container_id = a.argv[0];
	if (cx_rpc(c, "/containerd.services.tasks.v1.Tasks/ListPids", &req.base,
		   &containerd__services__tasks__v1__list_pids_response__descriptor, &resp))
		goto out;
	const Containerd__Services__Tasks__V1__ListPidsResponse *r = (const void *)resp;
	struct gotabw *w = gotabw_new(stdout, 1, 4);
	gotabw_printf(w, "PID\tINFO\n");
	for (size_t i = 0; i < r->n_processes; i++) {
		const Google__Protobuf__Any *info = r->processes[i]->info;
		if (!info) {
			gotabw_printf(w, "%u\t-\n", r->processes[i]->pid);
			continue;
		}
		const char *url = info->type_url ? info->type_url : "";
		const char *slash = strrchr(url, '/');
		const char *name = slash ? slash + 1 : url;
		if (strcmp(name, "containerd.runc.v1.ProcessDetails")) {
			gotabw_flush(w);
			ctr_fail("type with url %s: not found", url);
			goto out;
		}
		Containerd__Runc__V1__ProcessDetails *d =
		    containerd__runc__v1__process_details__unpack(NULL, info->value.len,
								  info->value.data);
		gotabw_printf(w, "%u\t&ProcessDetails{ExecID:%s,XXX_unrecognized:[],}\n",
			      r->processes[i]->pid, d && d->exec_id ? d->exec_id : "");
		if (d)
			containerd__runc__v1__process_details__free_unpacked(d, NULL);
	}
	gotabw_flush(w);
	rc = 0;
out:
	if (t)
		protobuf_c_message_free_unpacked(t, NULL);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

/* ---- pause / resume ---- */

static int pause_resume(struct ctr *c, int argc, char **argv, int pause)
{
	struct ctr_args a;
	ProtobufCMessage *t = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, NULL, 0, 1, &a))
		goto out;
	const char *id = a.argc ? a.argv[0] : "";
	if (load_task(c, id, &t))
		goto out;
	if (pause) {
		Containerd__Services__Tasks__V1__PauseTaskRequest req =
		    CONTAINERD__SERVICES__TASKS__V1__PAUSE_TASK_REQUEST__INIT;
		req.container_id = (char *)id;
		rc = cx_rpc(c, "/containerd.services.tasks.v1.Tasks/Pause", &req.base, NULL, NULL);
	} else {
		Containerd__Services__Tasks__V1__ResumeTaskRequest req =
		    CONTAINERD__SERVICES__TASKS__V1__RESUME_TASK_REQUEST__INIT;
		req.container_id = (char *)id;
		rc = cx_rpc(c, "/containerd.services.tasks.v1.Tasks/Resume", &req.base, NULL, NULL);
	}
out:
	if (t)
		protobuf_c_message_free_unpacked(t, NULL);
	ctr_args_free(&a);
	return rc;
}

static int t_pause(struct ctr *c, int argc, char **argv)
{
	return pause_resume(c, argc, argv, 1);
}

static int t_resume(struct ctr *c, int argc, char **argv)
{
	return pause_resume(c, argc, argv, 0);
}

/* ---- metrics ---- */

static void u64_list(struct jbuf *b, const uint64_t *v, size_t n)
{
	jb_puts(b, "[");
	for (size_t i = 0; i < n; i++)
		jb_printf(b, i ? " %llu" : "%llu", (unsigned long long)v[i]);
	jb_puts(b, "]");
}

/* the METRIC rows of a cgroup v1 Metrics message */
static void metrics_v1(struct gotabw *w, const ProtobufCMessage *data)
{
	const Io__Containerd__Cgroups__V1__Metrics *v = (const void *)data;
	if (v->memory) {
		const Io__Containerd__Cgroups__V1__MemoryEntry *u = v->memory->usage;
		gotabw_printf(w, "memory.usage_in_bytes\t%llu\t\n",
			      u ? (unsigned long long)u->usage : 0ULL);
		gotabw_printf(w, "memory.limit_in_bytes\t%llu\t\n",
			      u ? (unsigned long long)u->limit : 0ULL);
		gotabw_printf(w, "memory.stat.cache\t%llu\t\n",
			      (unsigned long long)v->memory->total_cache);
	}
	if (v->cpu) {
		const Io__Containerd__Cgroups__V1__CPUUsage *u = v->cpu->usage;
		struct jbuf b = {0};
		u64_list(&b, u ? u->per_cpu : NULL, u ? u->n_per_cpu : 0);
		gotabw_printf(w, "cpuacct.usage\t%llu\t\n",
			      u ? (unsigned long long)u->total : 0ULL);
		gotabw_printf(w, "cpuacct.usage_percpu\t%s\t\n", jb_str(&b));
		jb_free(&b);
	}
	if (v->pids) {
		gotabw_printf(w, "pids.current\t%llu\t\n", (unsigned long long)v->pids->current);
		gotabw_printf(w, "pids.limit\t%llu\t\n", (unsigned long long)v->pids->limit);
	}
}

/* the METRIC rows of a cgroup v2 Metrics message */
static void metrics_v2(struct gotabw *w, const ProtobufCMessage *data)
{
	const Io__Containerd__Cgroups__V2__Metrics *v = (const void *)data;
	if (v->pids) {
		gotabw_printf(w, "pids.current\t%llu\t\n", (unsigned long long)v->pids->current);
		gotabw_printf(w, "pids.limit\t%llu\t\n", (unsigned long long)v->pids->limit);
	}
	if (v->cpu) {
		gotabw_printf(w, "cpu.usage_usec\t%llu\t\n",
			      (unsigned long long)v->cpu->usage_usec);
		gotabw_printf(w, "cpu.user_usec\t%llu\t\n", (unsigned long long)v->cpu->user_usec);
		gotabw_printf(w, "cpu.system_usec\t%llu\t\n",
			      (unsigned long long)v->cpu->system_usec);
		gotabw_printf(w, "cpu.nr_periods\t%llu\t\n",
			      (unsigned long long)v->cpu->nr_periods);
		gotabw_printf(w, "cpu.nr_throttled\t%llu\t\n",
			      (unsigned long long)v->cpu->nr_throttled);
		gotabw_printf(w, "cpu.throttled_usec\t%llu\t\n",
			      (unsigned long long)v->cpu->throttled_usec);
	}
	if (v->memory) {
		gotabw_printf(w, "memory.usage\t%llu\t\n", (unsigned long long)v->memory->usage);
		gotabw_printf(w, "memory.usage_limit\t%llu\t\n",
			      (unsigned long long)v->memory->usage_limit);
		gotabw_printf(w, "memory.swap_usage\t%llu\t\n",
			      (unsigned long long)v->memory->swap_usage);
		gotabw_printf(w, "memory.swap_limit\t%llu\t\n",
			      (unsigned long long)v->memory->swap_limit);
	}
}

/* Tasks.Metrics for the one task id */
static int metrics_fetch(struct ctr *c, const char *id, ProtobufCMessage **resp)
{
	Containerd__Services__Tasks__V1__MetricsRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__METRICS_REQUEST__INIT;
	char *filter = NULL;
	if (asprintf(&filter, "id==%s", id) < 0) {
		ctr_fail("out of memory");
		return -1;
	}
	req.n_filters = 1;
	req.filters = &filter;
	int r0 = cx_rpc(c, "/containerd.services.tasks.v1.Tasks/Metrics", &req.base,
			&containerd__services__tasks__v1__metrics_response__descriptor, resp);
	free(filter);
	return r0 ? -1 : 0;
}

static int t_metrics(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"format", CF_STR, "table"}};
	struct ctr_args a;
	ProtobufCMessage *t = NULL, *resp = NULL, *data = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 1, 1, &a))
		goto out;
	const char *id = a.argc ? a.argv[0] : "";
	if (load_task(c, id, &t))
		goto out;
	if (metrics_fetch(c, id, &resp))
		goto out;
	const Containerd__Services__Tasks__V1__MetricsResponse *r = (const void *)resp;
	if (!r->n_metrics) {
		ctr_fail("no metrics received");
		goto out;
	}
	const Containerd__Types__Metric *m = r->metrics[0];
	const char *url = m->data && m->data->type_url ? m->data->type_url : "";
	const char *slash = strrchr(url, '/');
	const char *name = slash ? slash + 1 : url;
	const ProtobufCMessageDescriptor *d = NULL;
	if (!strcmp(name, "io.containerd.cgroups.v1.Metrics"))
		d = &io__containerd__cgroups__v1__metrics__descriptor;
	else if (!strcmp(name, "io.containerd.cgroups.v2.Metrics"))
		d = &io__containerd__cgroups__v2__metrics__descriptor;
	if (!m->data || !url[0]) {
		ctr_fail("empty any");
		goto out;
	}
	if (!d) {
		ctr_fail("type with url %s: not found", url);
		goto out;
	}
	data = protobuf_c_message_unpack(d, NULL, m->data->value.len, m->data->value.data);
	if (!data) {
		ctr_fail("unexpected EOF");
		goto out;
	}
	const char *fmt = ctr_str(&a, "format");
	if (!strcmp(fmt, "json")) {
		struct jbuf b = {0};
		pbjson_message(&b, data, "  ", 0);
		printf("%s\n", jb_str(&b));
		jb_free(&b);
		rc = 0;
		goto out;
	}
	if (strcmp(fmt, "table")) {
		ctr_fail("format must be table or json");
		goto out;
	}
	struct gotabw *w = gotabw_new(stdout, 1, 4);
	char *ts = m->timestamp ? go_time_string(m->timestamp->seconds, m->timestamp->nanos)
				: go_time_string(-62135596800LL, 0);
	gotabw_printf(w, "ID\tTIMESTAMP\t\n");
	gotabw_printf(w, "%s\t%s\t\n\n", m->id, ts ? ts : "");
	free(ts);
	gotabw_printf(w, "METRIC\tVALUE\t\n");
	if (d == &io__containerd__cgroups__v1__metrics__descriptor)
		metrics_v1(w, data);
	else
		metrics_v2(w, data);
	gotabw_flush(w);
	rc = 0;
out:
	if (data)
		protobuf_c_message_free_unpacked(data, NULL);
	if (t)
		protobuf_c_message_free_unpacked(t, NULL);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

/* ---- wait (ctrbox extension: ctr 1.6 has no `tasks wait`) ---- */

static int t_wait(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"exec-id", CF_STR, ""}};
	struct ctr_args a;
	ProtobufCMessage *t = NULL, *resp = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 1, 1, &a))
		goto out;
	if (a.argc < 1 || !*a.argv[0]) {
		ctr_fail("container id must be provided");
		goto out;
	}
	if (load_task(c, a.argv[0], &t))
		goto out;
	const char *exec_id = ctr_str(&a, "exec-id");
	Containerd__Services__Tasks__V1__WaitRequest req =
	    CONTAINERD__SERVICES__TASKS__V1__WAIT_REQUEST__INIT;
	req.container_id = a.argv[0];
	if (exec_id && *exec_id)
		req.exec_id = (char *)exec_id;
	if (cx_rpc(c, "/containerd.services.tasks.v1.Tasks/Wait", &req.base,
		   &containerd__services__tasks__v1__wait_response__descriptor, &resp))
		goto out;
	printf("%u\n", ((Containerd__Services__Tasks__V1__WaitResponse *)resp)->exit_status);
	rc = 0;
out:
	if (t)
		protobuf_c_message_free_unpacked(t, NULL);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

int ctr_cmd_tasks(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_sub subs[] = {
	    {"attach", "attach to the IO of a running container", NULL},
	    {"checkpoint", "checkpoint a container", NULL},
	    {"delete,del,remove,rm", "delete one or more tasks", t_delete},
	    {"exec", "execute additional processes in an existing container", ctr_tasks_exec},
	    {"list,ls", "list tasks", t_list},
	    {"kill", "signal a container (default: SIGTERM)", t_kill},
	    {"pause", "pause an existing container", t_pause},
	    {"ps", "list processes for container", t_ps},
	    {"resume", "resume a paused container", t_resume},
	    {"start", "start a container that has been created", ctr_tasks_start},
	    {"metrics,metric",
	     "get a single data point of metrics for a task with the built-in Linux runtime",
	     t_metrics},
	};
	/* `wait` is not in ctr's help (an extension); dispatched before the table */
	if (argc > 1 && !strcmp(argv[1], "wait")) {
		if (ctr_completing())
			ctr_complete_group(); /* its flags are offered with the group's */
		return t_wait(c, argc - 1, argv + 1);
	}
	return ctr_subcmd(c, "tasks", "manage tasks", subs, sizeof(subs) / sizeof(subs[0]), argc,
			  argv);
}
