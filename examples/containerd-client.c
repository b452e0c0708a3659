/* A containerd client on libctrbox (rust-extensions' client examples): containerd's version,
 * then the containers and tasks of a namespace.
 *   usage: containerd-client [--address SOCK] [--namespace NS]
 * Prints "Version: <version> <revision>", then "CONTAINER IMAGE RUNTIME" rows and
 * "TASK PID STATUS" rows (tab-separated). Exit 1 after an error on stderr. */
#include <ctrbox/client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, int code, char *err)
{
	fprintf(stderr, "containerd-client: %s: %s: %s\n", what, ctrbox_code_name(code),
		err ? err : "");
	free(err);
	return 1;
}

static int print_container(const ProtobufCMessage *m, void *data)
{
	const Containerd__Services__Containers__V1__ListContainerMessage *msg = (const void *)m;
	const Containerd__Services__Containers__V1__Container *ct = msg->container;

	if (ct)
		printf("%s\t%s\t%s\n", ct->id, *ct->image ? ct->image : "-",
		       ct->runtime ? ct->runtime->name : "-");
	return 0;
}

/* Containers.ListStream: one message a container, each handed over decoded. */
static int list_containers(struct ctrbox_client *c)
{
	char *err;
	int code;

	printf("CONTAINER\tIMAGE\tRUNTIME\n");
	code = ctrbox_client_rpc_containers_list_stream(c, NULL, print_container, NULL, &err);
	if (code)
		return fail("Containers.ListStream", code, err);
	free(err);
	return 0;
}

static int list_tasks(struct ctrbox_client *c)
{
	Containerd__Services__Tasks__V1__ListTasksResponse *r;
	char *err;
	int code = ctrbox_client_rpc_tasks_list(c, NULL, &r, &err);

	if (code)
		return fail("Tasks.List", code, err);
	printf("TASK\tPID\tSTATUS\n");
	for (size_t i = 0; i < r->n_tasks; i++)
		printf("%s\t%u\t%s\n", r->tasks[i]->id, r->tasks[i]->pid,
		       ctrbox_client_status_name(r->tasks[i]->status));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *address = CTRBOX_CLIENT_DEFAULT_ADDRESS, *ns = "default";
	Containerd__Services__Version__V1__VersionResponse *v;
	struct ctrbox_client *c;
	char *err;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--address"))
			address = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--namespace"))
			ns = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--address SOCK] [--namespace NS]\n", argv[0]);
			return 2;
		}
	}
	rc = ctrbox_client_connect(address, &c);
	if (rc) {
		fprintf(stderr, "containerd-client: cannot connect to %s: %s\n", address,
			strerror(-rc));
		return 1;
	}
	ctrbox_client_set_timeout(c, 10000);
	if (ctrbox_client_set_namespace(c, ns)) {
		ctrbox_client_free(c);
		return 1;
	}
	rc = ctrbox_client_rpc_version_version(c, NULL, &v, &err);
	if (rc) {
		rc = fail("Version", rc, err);
	} else {
		printf("Version: %s %s\n", v->version, v->revision);
		protobuf_c_message_free_unpacked(&v->base, NULL);
		rc = list_containers(c) || list_tasks(c);
	}
	ctrbox_client_free(c);
	return rc;
}
