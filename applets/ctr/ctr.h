/* ctrbox-ctr: a ctr-compatible gRPC client of containerd. Shared state and helpers of the
 * command files (cmd_*.c). Every command returns the process exit status (0, or 1 after printing
 * "ctr: <message>" to stderr, as ctr does). */
#ifndef CTRBOX_CTR_H
#define CTRBOX_CTR_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ctrbox/client.h>
#include <ctrbox/grpc.h>
#include <ctrbox/loop.h>

struct ctr {
	const char *address;  /* -a/--address, CONTAINERD_ADDRESS, default below */
	const char *ns;	      /* -n/--namespace, CONTAINERD_NAMESPACE, "default" */
	uint64_t deadline_ms; /* --timeout: absolute monotonic deadline, 0 = none */
	uint64_t connect_ms;  /* --connect-timeout (unix connect is immediate: kept for ctr) */
	int debug;	      /* --debug */
	const char *lease;    /* containerd-lease metadata for every call while set */
	struct ctrbox_client *client; /* the connection (ctr_client), NULL until then */
	struct ctrbox_loop *loop;     /* client's loop and gRPC connection, once connected */
	struct ctrbox_grpc_client *cli;
};

#define CTR_DEFAULT_ADDRESS CTRBOX_CLIENT_DEFAULT_ADDRESS

/* ---- calls ---- */

/* On the client crate (ctrbox/client.h). Connects on first use. path:
 * "/containerd.services.x.v1.Svc/Method". Sends the namespace (and lease) metadata. Unary: *resp
 * (may be NULL when out_desc is NULL) gets the decoded reply. Returns 0, or the gRPC code with
 * *errmsg (malloc'd) set; transport failures are code 14 (Unavailable) with a message saying so. */
int ctr_call(struct ctr *c, const char *path, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp, char **errmsg);
/* Server-streaming: on_msg sees every raw message. */
int ctr_call_stream(struct ctr *c, const char *path, const ProtobufCMessage *req,
		    ctrbox_grpc_msg_cb on_msg, void *data, char **errmsg);
/* ctr_call that prints "ctr: <message>" on failure and returns 1 (0 on success). */
int ctr_rpc(struct ctr *c, const char *path, const ProtobufCMessage *req,
	    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp);
/* The call metadata: containerd-namespace (and containerd-lease while set); returns the count. */
size_t ctr_metadata(const struct ctr *c, struct ctrbox_kv md[2]);
/* The connected client (connecting if needed); NULL after printing an error. */
struct ctrbox_grpc_client *ctr_client(struct ctr *c);
/* Remaining time before --timeout in ms (0 = no deadline; 1 if already passed). */
uint64_t ctr_timeout_left(const struct ctr *c);

/* ctr_call with *err (never NULL on failure) in errdefs form. */
int cx_call(struct ctr *c, const char *path, const ProtobufCMessage *req,
	    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp, char **err);
/* cx_call printing "ctr: <err>"; 0 or 1. */
int cx_rpc(struct ctr *c, const char *path, const ProtobufCMessage *req,
	   const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **resp);
/* "ctr: <err>" unless the connection itself failed (ctr_client printed that); returns 1. */
int cx_fail(struct ctr *c, const char *err);

/* Prints "ctr: <fmt>" to stderr; returns 1. */
int ctr_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- flags (urfave/cli v1 style: -f, --f, --f=v, --f v; bool --f or --f=false) ---- */

enum ctr_flag_kind { CF_BOOL, CF_STR, CF_MULTI };

struct ctr_flag {
	const char *names; /* "snapshotter" or "t,tty" (aliases, comma-separated) */
	enum ctr_flag_kind kind;
	const char *def; /* default value of CF_STR (may be NULL) */
};

struct ctr_args {
	const struct ctr_flag *flags;
	size_t nflags;
	const char **val; /* CF_STR value / CF_BOOL "true" or NULL */
	char ***multi;	  /* CF_MULTI values */
	size_t *nmulti;
	int argc; /* positional arguments */
	char **argv;
};

/* Parses argv (argv[0] is the command name). With reorder, flags may follow positional
 * arguments (ctr's default); without, parsing stops at the first positional one (ctr run).
 * "--" ends the flags. Unknown flags: prints ctr's "flag provided but not defined: -X" and
 * returns 1. */
/* Whether name (len bytes) is one of the comma-separated names ("list,ls"). */
int ctr_name_in(const char *names, const char *name, size_t len);
int ctr_parse(int argc, char **argv, const struct ctr_flag *flags, size_t nflags, int reorder,
	      struct ctr_args *out);
void ctr_args_free(struct ctr_args *a);
const char *ctr_str(const struct ctr_args *a, const char *name);
int ctr_bool(const struct ctr_args *a, const char *name);
char **ctr_multi(const struct ctr_args *a, const char *name, size_t *n);

/* ---- subcommand groups (urfave/cli v1 style) ---- */
struct ctr_sub {
	const char *names; /* "list,ls" */
	const char *usage;
	int (*fn)(struct ctr *c, int argc, char **argv); /* NULL: not supported by ctrbox-ctr */
};
/* argv[0] is the group word, argv[1] the subcommand: runs it with argv + 1 (one without fn:
 * "ctr: GROUP X is not supported by ctrbox-ctr", 1). No subcommand (or -h/--help/help/h): the
 * group's help on stdout, 0. Unknown: "No help topic for 'X'", 3. */
int ctr_subcmd(struct ctr *c, const char *group, const char *usage, const struct ctr_sub *subs,
	       size_t nsubs, int argc, char **argv);

/* ---- --generate-bash-completion (complete.c), ctr's hidden flag ---- */

/* Whether argv ends with --generate-bash-completion: then it is dropped from argv, stderr goes
 * to /dev/null and every level below prints the words to offer instead of running. */
int ctr_complete_begin(int *argc, char **argv);
/* Completion mode: ctr_parse is lenient and, for a command's own flags, prints the flags to
 * offer and returns 1 (the command runs nothing); ctr_client connects to nothing. */
int ctr_completing(void);
/* Completing, and not inside ctr_parse_group. */
int ctr_completing_flags(void);
/* The flags of the command level the line reached (offered with a command's own). */
void ctr_complete_level(const struct ctr_flag *flags, size_t nflags);
/* The level is a group whose only flag is --help, -h. */
void ctr_complete_group(void);
/* Prints the flags of the command (and of its level) that the last word starts, if it starts
 * with '-'. */
void ctr_complete_flags(const struct ctr_flag *flags, size_t nflags);
/* At a level with subcommands: their names (comma-separated aliases, each printed), or the
 * level's flags when the last word starts with '-'. */
void ctr_complete_subs(const char *const *names, size_t n);
/* ctr_parse (without reorder) of a level with subcommands: never completes flags itself; when
 * completing, the flags become the level's. */
int ctr_parse_group(int argc, char **argv, const struct ctr_flag *flags, size_t nflags,
		    struct ctr_args *out);

/* ---- output ---- */

/* Tables: gotabw_* of ctr/pbjson.h (Go's text/tabwriter; ctr's tables use minwidth 1,
 * padding 1); times: go_time_rfc3339 there too. */
/* progress.Bytes as ctr prints sizes: "1.9 MiB", "4.0 KiB", "512 B". */
char *ctr_human_bytes(int64_t n);
/* Parses a Go duration ("10s", "1m30s", "500ms"); -1 if malformed. */
int64_t ctr_duration_ms(const char *s);

/* ---- images, content, leases (image.c) ---- */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* Whether a media type is an OCI index / Docker manifest list, an OCI / Docker manifest. */
int ctr_mt_is_index(const char *mt);
int ctr_mt_is_manifest(const char *mt);

struct ctr_image {
	char *name;
	char *target_digest; /* the image record's target (index or manifest) */
	char *target_media_type;
	int64_t target_size;
	char *manifest_digest; /* the manifest for linux/amd64 (this host's platform) */
	char *config_digest;
	char *config_json; /* the image config blob, NUL-terminated */
	size_t nlayers;
	char **layer_digests; /* compressed layer blobs, bottom first */
	char **layer_media_types;
	int64_t *layer_sizes;
	char **diff_ids;  /* from the config's rootfs.diff_ids */
	char **chain_ids; /* identity.ChainID of diff_ids[0..i] */
};

/* Images.Get + Content reads (manifest, config). Prints ctr's error and returns 1 on failure. */
int ctr_image_load(struct ctr *c, const char *name, struct ctr_image *out);
void ctr_image_free(struct ctr_image *img);
/* Content.Read of a whole blob (server streaming; NUL-terminated, at most max bytes) without
 * printing: 0, or the gRPC code with *msg (the raw status message, malloc'd). *bad is set when
 * the stream was cut short (1 bad message, 2 more than max, 3 out of memory): *data NULL then.
 * *data may be NULL for an empty blob. */
int ctr_blob_read(struct ctr *c, const char *digest, size_t max, char **data, size_t *len, int *bad,
		  char **msg);
/* Reads a whole blob through Content.Read (server streaming). 0 or 1 after printing. */
int ctr_content_read(struct ctr *c, const char *digest, char **data, size_t *len);
/* Makes sure every layer of img is unpacked into snapshotter (Stat of the chain ids, then
 * Prepare/Mounts/Diff.Apply/Commit for the missing ones, as containerd's unpacker names them).
 * 0 or 1 after printing. */
int ctr_image_unpack(struct ctr *c, const struct ctr_image *img, const char *snapshotter);
/* client.resolveSnapshotterName: the namespace's containerd.io/defaults/snapshotter label,
 * else "overlayfs" (malloc'd). A namespace that cannot be read: NULL after printing ctr's error
 * if strict, else "overlayfs" too (as SnapshotService falls back). */
char *ctr_default_snapshotter(struct ctr *c, int strict);
/* Snapshots.Remove, the error message dropped; the gRPC code. */
int ctr_snapshot_remove(struct ctr *c, const char *snapshotter, const char *key);
/* Leases.Create (labels containerd.io/gc.expire = now + 24h, as ctr) and sets c->lease;
 * ctr_lease_end deletes it and clears c->lease. */
int ctr_lease_begin(struct ctr *c);
void ctr_lease_end(struct ctr *c);

/* ---- commands (one file each; argv[0] is the command word) ---- */

int ctr_cmd_version(struct ctr *c, int argc, char **argv);
int ctr_cmd_namespaces(struct ctr *c, int argc, char **argv);
int ctr_cmd_plugins(struct ctr *c, int argc, char **argv);
int ctr_cmd_containers(struct ctr *c, int argc, char **argv);
int ctr_cmd_images(struct ctr *c, int argc, char **argv);
int ctr_cmd_snapshots(struct ctr *c, int argc, char **argv);
int ctr_cmd_tasks(struct ctr *c, int argc, char **argv);
int ctr_cmd_events(struct ctr *c, int argc, char **argv);
int ctr_cmd_run(struct ctr *c, int argc, char **argv);
/* `tasks start` and `tasks exec` (argv[0] "start"/"exec"), in cmd_run.c with the stdio code. */
int ctr_tasks_start(struct ctr *c, int argc, char **argv);
int ctr_tasks_exec(struct ctr *c, int argc, char **argv);

#endif
