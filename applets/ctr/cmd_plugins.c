/* ctr plugins ls: the Introspection service's plugin list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/ctr.h"
#include "ctr/pbjson.h"
#include "introspection/v1/introspection.pb-c.h"

typedef Containerd__Services__Introspection__V1__Plugin Plugin;

/* platforms.Format of each (os "unknown" when empty; empty parts dropped), deduplicated,
 * sorted, joined with ",". malloc'd. */
static char *pretty_platforms(const Plugin *p)
{
	char **s = calloc(p->n_platforms + 1, sizeof(*s));
	size_t n = 0;
	struct jbuf b = {0};
	if (!s)
		return NULL;
	for (size_t i = 0; i < p->n_platforms; i++) {
		const Containerd__Types__Platform *pl = p->platforms[i];
		struct jbuf f = {0};
		jb_puts(&f, pl->os && *pl->os ? pl->os : "unknown");
		if (pl->architecture && *pl->architecture)
			jb_printf(&f, "/%s", pl->architecture);
		if (pl->variant && *pl->variant)
			jb_printf(&f, "/%s", pl->variant);
		size_t k = 0;
		while (k < n && strcmp(s[k], jb_str(&f)))
			k++;
		if (k < n) {
			jb_free(&f);
			continue;
		}
		s[n++] = f.s ? f.s : strdup("");
	}
	if (n)
		qsort(s, n, sizeof(*s), ctr_cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i)
			jb_puts(&b, ",");
		jb_puts(&b, s[i] ? s[i] : "");
		free(s[i]);
	}
	free(s);
	return b.s ? b.s : strdup("");
}

/* `plugins ls --detailed`: one block per plugin. */
static void plugin_detailed(struct gotabw *t, const Plugin *p)
{
	char buf[32];

	gotabw_printf(t, "Type:\t %s\n", p->type);
	gotabw_printf(t, "ID:\t %s\n", p->id);
	if (p->n_requires) {
		gotabw_printf(t, "Requires:\t\n");
		for (size_t k = 0; k < p->n_requires; k++)
			gotabw_printf(t, "\t %s\n", p->requires[k]);
	}
	if (p->n_platforms) {
		char *pp = pretty_platforms(p);
		gotabw_printf(t, "Platforms:\t %s\n", pp ? pp : "");
		free(pp);
	}
	if (p->n_exports) {
		gotabw_printf(t, "Exports:\t\n");
		for (size_t k = 0; k < p->n_exports; k++)
			gotabw_printf(t, "\t %s \t %s\n", p->exports[k]->key, p->exports[k]->value);
	}
	if (p->n_capabilities) {
		struct jbuf b = {0};
		for (size_t k = 0; k < p->n_capabilities; k++) {
			if (k)
				jb_puts(&b, ",");
			jb_puts(&b, p->capabilities[k]);
		}
		gotabw_printf(t, "Capabilities:\t %s\n", jb_str(&b));
		jb_free(&b);
	}
	if (p->init_err) {
		gotabw_printf(t, "Error:\t\n");
		gotabw_printf(t, "\t Code:\t %s\n", ctr_go_code(p->init_err->code, buf));
		gotabw_printf(t, "\t Message:\t %s\n", p->init_err->message);
	}
}

/* `plugins ls`: the table. */
static void plugin_row(struct gotabw *t, const Plugin *p)
{
	const char *status = "ok";
	char *pp;

	if (p->init_err)
		status = strstr(p->init_err->message ? p->init_err->message : "", "skip plugin")
			     ? "skip"
			     : "error";
	pp = p->n_platforms ? pretty_platforms(p) : NULL;
	gotabw_printf(t, "%s\t%s\t%s\t%s\t\n", p->type, p->id, pp ? pp : "-", status);
	free(pp);
}

static int plugins_list(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_flag flags[] = {{"quiet,q", CF_BOOL, NULL},
						{"detailed,d", CF_BOOL, NULL}};
	struct ctr_args a;
	ProtobufCMessage *resp = NULL;
	int rc = 1;
	if (ctr_parse(argc, argv, flags, 2, 1, &a))
		goto out;
	Containerd__Services__Introspection__V1__PluginsRequest req =
	    CONTAINERD__SERVICES__INTROSPECTION__V1__PLUGINS_REQUEST__INIT;
	req.n_filters = (size_t)a.argc;
	req.filters = a.argv;
	if (cx_rpc(c, "/containerd.services.introspection.v1.Introspection/Plugins", &req.base,
		   &containerd__services__introspection__v1__plugins_response__descriptor, &resp))
		goto out;
	const Containerd__Services__Introspection__V1__PluginsResponse *r = (const void *)resp;
	rc = 0;
	if (ctr_bool(&a, "quiet")) {
		for (size_t i = 0; i < r->n_plugins; i++)
			printf("%s\n", r->plugins[i]->id);
		goto out;
	}
	struct gotabw *t = gotabw_new(stdout, 4, 4);
	int detailed = ctr_bool(&a, "detailed");
	if (!detailed)
		gotabw_printf(t, "TYPE\tID\tPLATFORMS\tSTATUS\t\n");
	for (size_t i = 0; i < r->n_plugins; i++) {
		if (detailed && i)
			gotabw_printf(t, "\t\t\t\n");
		(detailed ? plugin_detailed : plugin_row)(t, r->plugins[i]);
	}
	gotabw_flush(t);
out:
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	ctr_args_free(&a);
	return rc;
}

int ctr_cmd_plugins(struct ctr *c, int argc, char **argv)
{
	static const struct ctr_sub subs[] = {
	    {"list,ls", "lists containerd plugins", plugins_list},
	};
	return ctr_subcmd(c, "plugins", "provides information about containerd plugins", subs, 1,
			  argc, argv);
}
