/* ctrbox-ctr: containerd's gRPC API from shell scripts, with ctr's global flags, commands,
 * output columns and exit codes. The command groups live in cmd_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "ctr/ctr.h"

struct command {
	const char *names; /* comma-separated aliases, as ctr's */
	int (*fn)(struct ctr *c, int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
    {"plugins,plugin", ctr_cmd_plugins, "provides information about containerd plugins"},
    {"version", ctr_cmd_version, "print the client and server versions"},
    {"containers,c,container", ctr_cmd_containers, "manage containers"},
    {"events,event", ctr_cmd_events, "display containerd events"},
    {"images,image,i", ctr_cmd_images, "manage images"},
    {"namespaces,namespace,ns", ctr_cmd_namespaces, "manage namespaces"},
    {"run", ctr_cmd_run, "run a container"},
    {"snapshots,snapshot", ctr_cmd_snapshots, "manage snapshots"},
    {"tasks,t,task", ctr_cmd_tasks, "manage tasks"},
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: ctrbox-ctr [global options] command [command options] [arguments...]\n\n"
	       "containerd CLI (ctr-compatible, talks gRPC to containerd)\n\n"
	       "global options:\n"
	       "  --debug                      enable debug output\n"
	       "  --address value, -a value    address for containerd's GRPC server "
	       "(default: \"" CTR_DEFAULT_ADDRESS "\") [$CONTAINERD_ADDRESS]\n"
	       "  --timeout value              total timeout for ctr commands (default: 0s)\n"
	       "  --connect-timeout value      timeout for connecting to containerd (default: 0s)\n"
	       "  --namespace value, -n value  namespace to use with commands (default: "
	       "\"default\") [$CONTAINERD_NAMESPACE]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-24s %s\n", commands[i].names, commands[i].usage);
}

int ctr_main(int argc, char **argv)
{
	static const struct ctr_flag gflags[] = {
	    {"debug", CF_BOOL, NULL},	   {"a,address", CF_STR, NULL},
	    {"timeout", CF_STR, NULL},	   {"connect-timeout", CF_STR, NULL},
	    {"n,namespace", CF_STR, NULL}, {"h,help", CF_BOOL, NULL},
	    {"v,version", CF_BOOL, NULL},
	};
	struct ctr c = {0};
	struct ctr_args g;
	int rc;

	int completing = ctr_complete_begin(&argc, argv);
	if (!completing && applet_std_flags(argc, argv))
		return 0;
	/* global flags come before the command word */
	if (ctr_parse_group(argc, argv, gflags, sizeof(gflags) / sizeof(gflags[0]), &g)) {
		ctr_args_free(&g);
		return completing ? 0 : 1;
	}
	if (completing) {
		const char *names[sizeof(commands) / sizeof(commands[0])];
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			names[i] = commands[i].names;
		const struct command *cmd = NULL;
		for (size_t i = 0; g.argc && i < sizeof(commands) / sizeof(commands[0]); i++)
			if (ctr_name_in(commands[i].names, g.argv[0], strlen(g.argv[0])))
				cmd = &commands[i];
		if (cmd)
			cmd->fn(&c, g.argc, g.argv);
		else
			ctr_complete_subs(names, sizeof(names) / sizeof(names[0]));
		ctr_args_free(&g);
		return 0;
	}
	if (ctr_bool(&g, "help") || g.argc == 0) {
		usage(g.argc ? stdout : stderr);
		ctr_args_free(&g);
		return g.argc ? 0 : 1;
	}
	c.address = ctr_str(&g, "address");
	if (!c.address)
		c.address = getenv("CONTAINERD_ADDRESS");
	if (!c.address || !*c.address)
		c.address = CTR_DEFAULT_ADDRESS;
	if (!strncmp(c.address, "unix://", 7))
		c.address += 7;
	c.ns = ctr_str(&g, "namespace");
	if (!c.ns)
		c.ns = getenv("CONTAINERD_NAMESPACE");
	if (!c.ns || !*c.ns)
		c.ns = "default";
	c.debug = ctr_bool(&g, "debug");
	const char *t = ctr_str(&g, "timeout");
	if (t) {
		int64_t ms = ctr_duration_ms(t);
		if (ms < 0) {
			ctr_args_free(&g);
			return ctr_fail("invalid value \"%s\" for flag -timeout: parse error", t);
		}
		if (ms > 0)
			c.deadline_ms = ctrbox_loop_now_ms() + (uint64_t)ms;
	}
	const char *name = g.argv[0];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (ctr_name_in(commands[i].names, name, strlen(name)))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "No help topic for '%s'\n", name);
		ctr_args_free(&g);
		return 3;
	}
	rc = cmd->fn(&c, g.argc, g.argv);
	ctr_args_free(&g);
	ctrbox_client_free(c.client);
	return rc;
}
