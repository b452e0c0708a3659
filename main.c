/* ctrbox: the applet table and argv[0] dispatch (busybox-style multicall binary). */
#include <ctrbox/version.h>
#include <stdio.h>
#include <string.h>

#include "applet.h"

static const struct applet applets[] = {
    {"containerd-shim-runc-v2", shim_runc_v2_main,
     "runc shim (io.containerd.runc.v2): drop-in for containerd 1.6's Go shim",
     "[-namespace NS] [-id ID] [-address ADDR] [-publish-binary BIN] [-bundle DIR] [-debug] "
     "[start|delete]"},
    {"containerd-shim-skeleton-v1", shim_skeleton_main,
     "the smallest shim (io.containerd.skeleton.v1): Connect and Shutdown only",
     "[-namespace NS] [-id ID] [-address ADDR] [-publish-binary BIN] [-bundle DIR] [-debug] "
     "[start|delete]"},
    {"ctrbox-ctr", ctr_main,
     "ctr-compatible gRPC client of containerd (images, containers, tasks, snapshots, run...)",
     "[-a ADDRESS] [-n NAMESPACE] [--timeout DURATION] COMMAND [ARGS...]"},
    {"ctrbox-journal", journal_main,
     "containerd logging binary (binary:// log URI): container output to journald or a file",
     "[KEY VALUE]... (--help lists the options)"},
    {"ctrbox-setup", setup_main,
     "switch containerd's runc shim to ctrbox's and back (a dpkg diversion), or say which it runs",
     "enable | disable | status [--shim PATH] [--dry-run]"},
    {"ctrbox-snapshotter", snapshotter_main,
     "proxy snapshotter for containerd (gRPC, overlayfs or native, SQLite metadata)",
     "--root DIR --address SOCKET [--backend overlayfs|native] [--log-level LEVEL]"},
    {"shim-proto-connect", shim_proto_connect_main,
     "send Connect then Shutdown to a shim's TTRPC socket and print the replies", "ADDRESS [ID]"},
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static const struct applet *find_applet(const char *name)
{
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		if (strcmp(applets[i].name, name) == 0)
			return &applets[i];
	return NULL;
}

static void list_applets(FILE *f, int verbose)
{
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		if (verbose)
			fprintf(f, "  %-30s %s\n", applets[i].name, applets[i].summary);
		else
			fprintf(f, "%s\n", applets[i].name);
	}
}

static int ctrbox_usage(FILE *f)
{
	fprintf(
	    f,
	    "ctrbox %s: containerd shim, snapshotter, logging and client tools in one binary\n\n"
	    "usage: ctrbox APPLET [ARGS...]   or a symlink named like the applet\n"
	    "       ctrbox --list | --help | --version\n\napplets:\n",
	    CTRBOX_VERSION);
	list_applets(f, 1);
	return f == stdout ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *name = base_name(argc > 0 && argv[0] ? argv[0] : "ctrbox");

	if (strcmp(name, "ctrbox") == 0) {
		if (argc < 2)
			return ctrbox_usage(stdout);
		if (!strcmp(argv[1], "--list")) {
			list_applets(stdout, 0);
			return 0;
		}
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
			return ctrbox_usage(stdout);
		if (!strcmp(argv[1], "--version")) {
			printf("ctrbox %s\n", CTRBOX_VERSION);
			return 0;
		}
		argv++, argc--;
		name = base_name(argv[0]);
	}
	current_applet = find_applet(name);
	if (!current_applet) {
		fprintf(stderr, "ctrbox: unknown applet '%s' (ctrbox --list shows them)\n", name);
		return 127;
	}
	return current_applet->main(argc, argv);
}
