/* Unit test runner: runs every test, prints one line per failure and "N passed, N failed". */
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

int unit_failures;

#define T(name) void name(void);
#define TESTS                                                                                      \
	T(test_hdr_roundtrip)                                                                      \
	T(test_task_register)                                                                      \
	T(test_shim_reap)                                                                          \
	T(test_request_bytes)                                                                      \
	T(test_request_metadata_timeout)                                                           \
	T(test_response_error_bytes)                                                               \
	T(test_response_ok_bytes)                                                                  \
	T(test_reader_fragmented)                                                                  \
	T(test_reader_oversize)                                                                    \
	T(test_reader_truncated)                                                                   \
	T(test_garbage_request_body)                                                               \
	T(test_delete_response_bytes)                                                              \
	T(test_sha256_vectors)                                                                     \
	T(test_path_clean)                                                                         \
	T(test_socket_address)                                                                     \
	T(test_start_input_bootstrap)                                                              \
	T(test_start_input_bare_any)                                                               \
	T(test_flags_go_style)                                                                     \
	T(test_flags_errors)                                                                       \
	T(test_log_quoting)                                                                        \
	T(test_mount_parse_cases)                                                                  \
	T(test_mount_flag_table)                                                                   \
	T(test_mount_compact_overlay)                                                              \
	T(test_mount_compact_threshold)                                                            \
	T(test_mount_compact_refusals)                                                             \
	T(test_mount_unsupported)                                                                  \
	T(test_path_within)                                                                        \
	T(test_path_is_mountpoint)                                                                 \
	T(test_mount_tmpfs)                                                                        \
	T(test_mount_bind_ro)                                                                      \
	T(test_mount_overlay)                                                                      \
	T(test_mount_overlay_deep)                                                                 \
	T(test_unmount_all_stacked)                                                                \
	T(test_mount_all_rollback)                                                                 \
	T(test_json_unescape)                                                                      \
	T(test_json_nested)                                                                        \
	T(test_json_bad)                                                                           \
	T(test_json_bounded)                                                                       \
	T(test_json_scalars)                                                                       \
	T(test_json_quote)                                                                         \
	T(test_jsonw_nesting)                                                                      \
	T(test_jsonw_indent)                                                                       \
	T(test_jsonw_escaping)                                                                     \
	T(test_jsonw_integers)                                                                     \
	T(test_jsonw_large)                                                                        \
	T(test_jsonw_misuse)                                                                       \
	T(test_runc_argv_global)                                                                   \
	T(test_runc_argv_create)                                                                   \
	T(test_runc_argv_exec)                                                                     \
	T(test_runc_argv_simple)                                                                   \
	T(test_runc_argv_criu)                                                                     \
	T(test_runc_spawn)                                                                         \
	T(test_runc_spawn_child_env)                                                               \
	T(test_runc_last_error)                                                                    \
	T(test_runc_error_message)                                                                 \
	T(test_runc_parse_state)                                                                   \
	T(test_runc_parse_ps)                                                                      \
	T(test_cgroup_paths_v1)                                                                    \
	T(test_cgroup_mountinfo_read)                                                              \
	T(test_cgroup_paths_v2)                                                                    \
	T(test_cgroup_paths_self)                                                                  \
	T(test_cgroup_v1_fixture)                                                                  \
	T(test_cgroup_v1_partial)                                                                  \
	T(test_cgroup_v1_errors)                                                                   \
	T(test_cgroup_v2_fixture)                                                                  \
	T(test_cgroup_v2_oom_watch)                                                                \
	T(test_cgroup_v1_oom_eventfd)                                                              \
	T(test_cgroup_v1_oom_kill)                                                                 \
	T(test_journal_fields)                                                                     \
	T(test_journal_field_names)                                                                \
	T(test_journal_line_split)                                                                 \
	T(test_journal_cri_json)                                                                   \
	T(test_journal_parse_size)                                                                 \
	T(test_snapstore_overlay_shapes)                                                           \
	T(test_snapstore_native_copy)                                                              \
	T(test_snapstore_errors)                                                                   \
	T(test_snapstore_keys_paths)                                                               \
	T(test_snapstore_labels_update_walk)                                                       \
	T(test_snapstore_cleanup_reopen)                                                           \
	T(test_snapstore_default_backend)                                                          \
	T(test_snapfilter_match)                                                                   \
	T(test_snapfilter_errors)                                                                  \
	T(test_grpc_timeout_parse)                                                                 \
	T(test_grpc_message_codec)                                                                 \
	T(test_grpc_unary_roundtrip)                                                               \
	T(test_grpc_error_status)                                                                  \
	T(test_grpc_server_streaming)                                                              \
	T(test_grpc_large_messages)                                                                \
	T(test_grpc_deadline_and_cancel)                                                           \
	T(test_grpc_async_reply)                                                                   \
	T(test_grpc_connection_drop)
TESTS
#undef T
#define T(name) {#name, name, NULL},
static const struct unit_test tests[] = {TESTS};

void unit_in_own_process(void (*body)(void))
{
	int ws = 0;
	pid_t pid = fork();

	if (pid == 0) {
		unit_failures = 0;
		body();
		_exit(unit_failures > 100 ? 100 : unit_failures);
	}
	if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		unit_failures++;
	else
		unit_failures += WEXITSTATUS(ws);
}

static struct unit_test *registered;

void unit_register(struct unit_test *t)
{
	struct unit_test **pp = &registered;

	while (*pp && strcmp((*pp)->name, t->name) < 0)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

static void run(const struct unit_test *t, int *passed, int *failed)
{
	int before = unit_failures;

	t->fn();
	if (unit_failures == before) {
		(*passed)++;
	} else {
		(*failed)++;
		printf("FAIL %s\n", t->name);
	}
}

int main(void)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		run(&tests[i], &passed, &failed);
	for (const struct unit_test *t = registered; t; t = t->next)
		run(t, &passed, &failed);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
