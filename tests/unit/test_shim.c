/* Unit tests: shim CLI parsing, socket address derivation, start's stdin, paths, SHA-256, log
 * formatting. */
#include <stdlib.h>
#include <string.h>

#include "bootstrap/v1/bootstrap.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#include "core/log_int.h"
#include <ctrbox/sha256.h>
#include <ctrbox/shim.h>
#include "unit.h"
#include <ctrbox/util.h>

void test_sha256_vectors(void)
{
	char hex[65];

	ctrbox_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ctrbox_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ctrbox_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void clean_is(const char *in, const char *want)
{
	char *s = strdup(in);
	CHECK_STR(ctrbox_path_clean(s), want);
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

/* ---- containerd 2.3's BootstrapParams on start's stdin, told from a bare Any ---- */

static size_t pack_any(const char *type_url, const uint8_t *v, size_t vlen, uint8_t *out)
{
	Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT;

	a.type_url = (char *)type_url;
	a.value.data = (uint8_t *)v;
	a.value.len = vlen;
	return google__protobuf__any__pack(&a, out);
}

void test_start_input_bootstrap(void)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapParams bp =
	    CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_PARAMS__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension e1 =
	    CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension e2 =
	    CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension *exts[] = {&e1, &e2};
	Google__Protobuf__Any cri = GOOGLE__PROTOBUF__ANY__INIT, opt = GOOGLE__PROTOBUF__ANY__INIT;
	static const uint8_t optval[] = {0x1a, 0x04, '/', 'a', 'b', 'c'}; /* shim_cgroup "/abc" */
	uint8_t buf[512], want[128], *opts;
	size_t len, wantlen, optlen;
	char *dir;

	cri.type_url = "containerd.io/cri.v1.PodSandboxConfig";
	opt.type_url = "containerd.runc.v1.Options";
	opt.value.data = (uint8_t *)optval;
	opt.value.len = sizeof(optval);
	e1.value = &cri;
	e2.value = &opt;
	bp.instance_id = "t1";
	bp.namespace_ = "ns1";
	bp.log_level = 2;
	bp.containerd_version = "2.3.0";
	bp.containerd_ttrpc_address = "/run/containerd/containerd.sock.ttrpc";
	bp.containerd_grpc_address = "/run/containerd/containerd.sock";
	bp.containerd_binary = "/usr/bin/containerd";
	bp.n_extensions = 2;
	bp.extensions = exts;
	bp.socket_dir = "/run/c2s";
	len = containerd__runtime__bootstrap__v1__bootstrap_params__pack(&bp, buf);
	wantlen = pack_any(opt.type_url, optval, sizeof(optval), want);

	/* BootstrapParams naming this shim: the options extension (the CRI one skipped), the
	 * socket dir */
	CHECK(ctrbox_shim_parse_start_input(buf, len, "t1", "ns1", &opts, &optlen, &dir) == 0);
	CHECK(optlen == wantlen && opts && !memcmp(opts, want, wantlen));
	CHECK_STR(dir, "/run/c2s");
	free(opts);
	free(dir);
	/* socket_dir may be ignored */
	CHECK(ctrbox_shim_parse_start_input(buf, len, "t1", "ns1", &opts, &optlen, NULL) == 0);
	CHECK(optlen == wantlen);
	free(opts);

	/* another id or namespace: not for us, so it is taken as the bytes of a bare Any */
	CHECK(ctrbox_shim_parse_start_input(buf, len, "t2", "ns1", &opts, &optlen, &dir) == 0);
	CHECK(optlen == len && !memcmp(opts, buf, len) && dir == NULL);
	free(opts);
	CHECK(ctrbox_shim_parse_start_input(buf, len, "t1", "other", &opts, &optlen, &dir) == 0);
	CHECK(optlen == len && dir == NULL);
	free(opts);

	/* no runtime options among the extensions, no socket dir */
	bp.n_extensions = 1;
	bp.socket_dir = "";
	len = containerd__runtime__bootstrap__v1__bootstrap_params__pack(&bp, buf);
	CHECK(ctrbox_shim_parse_start_input(buf, len, "t1", "ns1", &opts, &optlen, &dir) == 0);
	CHECK(opts == NULL && optlen == 0 && dir == NULL);
}

void test_start_input_bare_any(void)
{
	static const uint8_t optval[] = {0x32, 0x04, 'r', 'u', 'n', 'c'}; /* binary_name "runc" */
	uint8_t any[128], *opts;
	size_t len, optlen;
	char *dir;

	/* containerd up to 2.2: the options Any itself, even where its fields (type_url = 1,
	 * value = 2) happen to decode as instance_id and namespace */
	len = pack_any("containerd.runc.v1.Options", optval, sizeof(optval), any);
	CHECK(ctrbox_shim_parse_start_input(any, len, "t1", "ns1", &opts, &optlen, &dir) == 0);
	CHECK(optlen == len && !memcmp(opts, any, len) && dir == NULL);
	free(opts);
	/* nothing on stdin */
	CHECK(ctrbox_shim_parse_start_input(any, 0, "t1", "ns1", &opts, &optlen, &dir) == 0);
	CHECK(opts == NULL && optlen == 0 && dir == NULL);
	/* bytes that are no protobuf at all: handed on as they are (the options parser fails
	 * on them, as before) */
	static const uint8_t junk[] = {0xff, 0xff, 0xff};
	CHECK(ctrbox_shim_parse_start_input(junk, 3, "t1", "ns1", &opts, &optlen, &dir) == 0);
	CHECK(optlen == 3 && !memcmp(opts, junk, 3));
	free(opts);
}
