/* Applet entry points and the common --help/--version handling they share. */
#ifndef CTRBOX_APPLET_H
#define CTRBOX_APPLET_H

#include <stdio.h>

struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
	const char *usage; /* printed by --help after "usage: NAME " */
};

/* The applet being run (set by main before calling it). */
extern const struct applet *current_applet;

/* If argv[1] is --help/-h or --version, prints and returns 1 (caller exits 0). */
int applet_std_flags(int argc, char **argv);
void applet_usage(FILE *f);

int shim_runc_v2_main(int argc, char **argv);
int shim_skeleton_main(int argc, char **argv);
int shim_proto_connect_main(int argc, char **argv);
int journal_main(int argc, char **argv);
int snapshotter_main(int argc, char **argv);
int ctr_main(int argc, char **argv);
int setup_main(int argc, char **argv);

#endif
