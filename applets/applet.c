/* Applet helpers shared by every applet: the current applet, --help and --version. */
#include <ctrbox/version.h>
#include <string.h>

#include "applet.h"

const struct applet *current_applet;

void applet_usage(FILE *f)
{
	fprintf(f, "usage: %s %s\n", current_applet->name, current_applet->usage);
}

int applet_std_flags(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "-help")) {
		applet_usage(stdout);
		printf("\n%s\n", current_applet->summary);
		return 1;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s (ctrbox) %s\n", current_applet->name, CTRBOX_VERSION);
		return 1;
	}
	return 0;
}
