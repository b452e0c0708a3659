/* ctr's hidden --generate-bash-completion flag (urfave/cli's shell completion): given as the
 * last word, the command line is not run; instead the words the shell may offer next are
 * printed, one a line. At a level with subcommands, their names (every alias); when the word
 * before the flag starts with '-', the flags of the level the line reached and of the command
 * itself that start with that word, minus those already on the line. packaging/bash-completion/
 * ctrbox-ctr is the bash function that asks. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctr/ctr.h"

#define COMPLETE_FLAG "--generate-bash-completion"

static struct {
	int on;
	const char *last; /* the word before the flag ("" for none) */
	int argc;	  /* the command line without the flag */
	char **argv;
	int group;		      /* inside ctr_parse_group: parse, do not complete */
	const struct ctr_flag *level; /* the flags of the command level reached */
	size_t nlevel;
} comp;

int ctr_complete_begin(int *argc, char **argv)
{
	if (*argc < 2 || strcmp(argv[*argc - 1], COMPLETE_FLAG))
		return 0;
	argv[--*argc] = NULL;
	comp.on = 1;
	comp.last = *argc > 1 ? argv[*argc - 1] : "";
	comp.argc = *argc;
	comp.argv = argv;
	/* a half-typed line is no error worth showing inside the shell's prompt */
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	return 1;
}

int ctr_completing(void)
{
	return comp.on;
}

int ctr_completing_flags(void)
{
	return comp.on && !comp.group;
}

void ctr_complete_level(const struct ctr_flag *flags, size_t nflags)
{
	comp.level = flags;
	comp.nlevel = nflags;
}

/* "-x" for a one-letter name, "--name" else (as urfave/cli writes them). */
static int on_line(const char *name, size_t len)
{
	for (int i = 1; i < comp.argc; i++) {
		const char *w = comp.argv[i];
		size_t dashes = len == 1 ? 1 : 2;
		if (strlen(w) == dashes + len && !strncmp(w, "--", dashes) &&
		    !strncmp(w + dashes, name, len))
			return 1;
	}
	return 0;
}

static void print_flags(const struct ctr_flag *flags, size_t nflags)
{
	const char *cur = comp.last + 1;
	int long_only = comp.last[1] == '-';
	if (long_only)
		cur++;
	size_t curlen = strlen(cur);
	for (size_t i = 0; i < nflags; i++) {
		const char *names[8];
		size_t lens[8], k = 0;
		for (const char *p = flags[i].names; p && *p && k < 8;) {
			const char *e = strchr(p, ',');
			names[k] = p;
			lens[k++] = e ? (size_t)(e - p) : strlen(p);
			p = e ? e + 1 : NULL;
		}
		/* a flag already given is not offered again, under any of its names */
		int given = 0;
		for (size_t j = 0; j < k; j++)
			given |= on_line(names[j], lens[j]);
		if (given)
			continue;
		/* long names first, then the one-letter ones: ctr's order ("--tty", "-t") */
		for (int pass = 0; pass < 2; pass++)
			for (size_t j = 0; j < k; j++) {
				size_t n = lens[j];
				if ((n == 1) != (pass == 1) || (n == 1 && long_only))
					continue;
				if (n >= curlen && !strncmp(names[j], cur, curlen) && n != curlen)
					printf("%s%.*s\n", n == 1 ? "-" : "--", (int)n, names[j]);
			}
	}
}

void ctr_complete_flags(const struct ctr_flag *flags, size_t nflags)
{
	if (comp.last[0] != '-')
		return; /* a command without subcommands: nothing but flags to offer */
	print_flags(comp.level, comp.nlevel);
	print_flags(flags, nflags);
}

/* The help flag of every level with subcommands. */
static const struct ctr_flag help_flag[] = {{"help,h", CF_BOOL, NULL}};

void ctr_complete_subs(const char *const *names, size_t n)
{
	if (comp.last[0] == '-') {
		print_flags(comp.level, comp.nlevel);
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (const char *p = names[i]; p && *p;) {
			const char *e = strchr(p, ',');
			int len = e ? (int)(e - p) : (int)strlen(p);
			printf("%.*s\n", len, p);
			p = e ? e + 1 : NULL;
		}
}

void ctr_complete_group(void)
{
	ctr_complete_level(help_flag, 1);
}

int ctr_parse_group(int argc, char **argv, const struct ctr_flag *flags, size_t nflags,
		    struct ctr_args *out)
{
	int saved = comp.group;
	comp.group = 1;
	int rc = ctr_parse(argc, argv, flags, nflags, 0, out);
	comp.group = saved;
	if (comp.on)
		ctr_complete_level(flags, nflags);
	return rc;
}
