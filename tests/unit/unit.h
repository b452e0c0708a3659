/* Minimal unit-test harness: CHECK records failures, the runner prints "N passed, N failed". */
#ifndef CTRBOX_UNIT_H
#define CTRBOX_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,         \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

/* Runs body in a child process of its own and adds its failures to unit_failures (a crash or
 * an abnormal exit counts as one): for tests of code that reaps every child of the process
 * (the monitor, runc jobs), which must not see another test's stray child. */
void unit_in_own_process(void (*body)(void));

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next; /* UNIT_TEST's list */
};

/* A test that registers itself (no line in main.c's list): UNIT_TEST(test_x) { CHECK(...); }
 * Registered tests run after the listed ones, in the order of their names. */
void unit_register(struct unit_test *t);
#define UNIT_TEST(name)                                                                            \
	static void name(void);                                                                    \
	static struct unit_test name##_reg = {#name, name, NULL};                                  \
	__attribute__((constructor)) static void name##_ctor(void)                                 \
	{                                                                                          \
		unit_register(&name##_reg);                                                        \
	}                                                                                          \
	static void name(void)

#endif
