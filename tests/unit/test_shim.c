/* Unit tests: shim CLI parsing, socket address derivation, paths, SHA-256, log formatting. */
#include <stdlib.h>

#include "log.h"
#include "sha256.h"
#include <ctrbox/shim.h>
#include "unit.h"
#include "util.h"

void test_sha256_vectors(void)
{
	char hex[65];

	sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void clean_is(const char *in, const char *want)
{
	char *s = strdup(in);
	CHECK_STR(path_clean(s), want);
	free(s);
}

void test_path_clean(void)
{
	clean_is("/a/b/../c", "/a/c");
	clean_is("/a//b/./c/", "/a/b/c");
	clean_is("/../a", "/a");
	clean_is("a/../../b", "../b");
	clean_is("", "");
	clean_is("./", ".");
	clean_is("/", "/");
	clean_is("../../x", "../../x");
	clean_is("a/b/../../..", "..");
}

/* The address containerd 1.6 derives: sha256(filepath.Join(address, ns, id)). */
void test_socket_address(void)
{
	char *a = ctrbox_shim_socket_address("/tmp/fake.sock", "ns1", "t1");
	CHECK_STR(a, "unix:///run/containerd/s/"
		     "ce8ceb1fc5ab8cf357e72ac7038cbfdee453437108fc507da37419a2e28da64b");
	free(a);
	/* Join cleans: a trailing slash or a dot segment does not change the hash */
	a = ctrbox_shim_socket_address("/tmp/./fake.sock/", "ns1", "t1");
	CHECK_STR(a, "unix:///run/containerd/s/"
		     "ce8ceb1fc5ab8cf357e72ac7038cbfdee453437108fc507da37419a2e28da64b");
	free(a);
}

void test_flags_go_style(void)
{
	char *argv[] = {"shim",
			"-namespace",
			"specns",
			"--address=/c.sock",
			"-publish-binary",
			"/usr/bin/containerd",
			"-id",
			"t2",
			"-debug",
			"start",
			"extra",
			NULL};
	struct ctrbox_shim_opts o;

	CHECK(ctrbox_shim_parse_flags(11, argv, &o) == 0);
	CHECK_STR(o.ns, "specns");
	CHECK_STR(o.address, "/c.sock");
	CHECK_STR(o.publish_binary, "/usr/bin/containerd");
	CHECK_STR(o.id, "t2");
	CHECK(o.debug == 1);
	CHECK_STR(o.action, "start");
}

void test_flags_errors(void)
{
	char *unknown[] = {"shim", "-bogus", "x", NULL};
	char *missing[] = {"shim", "-namespace", NULL};
	char *badbool[] = {"shim", "-debug=maybe", NULL};
	char *boolfalse[] = {"shim", "-debug=false", "-namespace=n", "--", "delete", NULL};
	struct ctrbox_shim_opts o;
	FILE *saved = stderr;

	stderr = fopen("/dev/null", "w");
	CHECK(ctrbox_shim_parse_flags(3, unknown, &o) == 2);
	CHECK(ctrbox_shim_parse_flags(2, missing, &o) == 2);
	CHECK(ctrbox_shim_parse_flags(2, badbool, &o) == 2);
	fclose(stderr);
	stderr = saved;
	CHECK(ctrbox_shim_parse_flags(5, boolfalse, &o) == 0);
	CHECK(o.debug == 0);
	CHECK_STR(o.ns, "n");
	CHECK_STR(o.action, "delete");
	CHECK_STR(o.publish_binary, "containerd");
}

/* logrus quoting: bare when every byte is in [A-Za-z0-9-._/@^+], otherwise %q. */
void test_log_quoting(void)
{
	char buf[256];
	size_t n = 0;

	n = log_append_kv(buf, n, sizeof(buf), "level", "info");
	n = log_append_kv(buf, n, sizeof(buf), "msg", "starting signal loop");
	n = log_append_kv(buf, n, sizeof(buf), "ns", "a.b-c/d@e");
	n = log_append_kv(buf, n, sizeof(buf), "q", "say \"hi\"\n");
	buf[n] = '\0';
	CHECK_STR(buf,
		  "level=info msg=\"starting signal loop\" ns=a.b-c/d@e q=\"say \\\"hi\\\"\\n\"");
	/* truncation never overflows */
	n = log_append_kv(buf, 0, 8, "key", "a long value");
	CHECK(n == 8);
}
