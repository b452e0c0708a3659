/* The logging crate's option parsing (ctrbox/logging.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrbox/logging.h"
#include "unit.h"

UNIT_TEST(test_logging_config)
{
	char a0[] = "logger", a1[] = "--tag", a2[] = "web", a3[] = "mode=file", a4[] = "flag",
	     a5[] = "", a6[] = "--x=y=z";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
	struct ctrbox_logging_config c;
	char err[128];

	setenv("CONTAINER_ID", "c1", 1);
	setenv("CONTAINER_NAMESPACE", "ns", 1);
	CHECK(ctrbox_logging_config_parse(&c, 7, argv, err, sizeof(err)) == 0);
	CHECK_STR(c.id, "c1");
	CHECK_STR(c.ns, "ns");
	CHECK(c.nargs == 4 && c.stdout_fd == 3 && c.stderr_fd == 4 && c.ready_fd == 5);
	CHECK_STR(ctrbox_logging_config_get(&c, "tag"), "web");
	CHECK_STR(ctrbox_logging_config_get(&c, "mode"), "file");
	CHECK_STR(ctrbox_logging_config_get(&c, "flag"), ""); /* a bare query key: empty value */
	CHECK_STR(ctrbox_logging_config_get(&c, "x"), "y=z");
	CHECK(ctrbox_logging_config_get(&c, "none") == NULL);
	ctrbox_logging_config_free(&c);

	CHECK(ctrbox_logging_config_parse(&c, 2, argv, err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "option 'tag' needs a value");
	unsetenv("CONTAINER_ID");
	CHECK(ctrbox_logging_config_parse(&c, 1, argv, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "CONTAINER_ID and CONTAINER_NAMESPACE must be set") != NULL);
	unsetenv("CONTAINER_NAMESPACE");
	CHECK_STR(ctrbox_logging_stream_name(CTRBOX_LOGGING_STDERR), "stderr");
	CHECK_STR(ctrbox_logging_stream_name(CTRBOX_LOGGING_STDOUT), "stdout");
}
