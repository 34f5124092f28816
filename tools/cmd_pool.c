/* SPDX-License-Identifier: MIT */
/* cutoverctl pool: create or replace (set), show, list and delete pools. */
#include "ctl.h"
#include "cutover/checktext.h"
#include "poolcmd.h"
#include "poolfile.h"
#include "cutover/pooljson.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char pool_usage[] =
	"Usage: cutoverctl [--db DIR] pool SUBCOMMAND ...\n"
	"\n"
	"A pool answers A or AAAA queries for one name with the addresses of one of its\n"
	"groups (conventionally blue and green), chosen by weight for each answer. It lives in\n"
	"a zone beside the zone's static records.\n"
	"\n"
	"Subcommands:\n"
	"  set NAME --group GROUP=ADDR,... [options]  create or replace a pool\n"
	"  show NAME [--type T] [--json]              print a pool (as a pool file)\n"
	"  list [ZONE] [--json]                       list the pools with their weights\n"
	"  delete NAME [--type T]                     remove a pool\n"
	"\n"
	"'cutoverctl pool SUBCOMMAND --help' explains each. Traffic moves with 'weight',\n"
	"'cutover' and 'rollback'; 'status' and 'history' show where it goes and went.\n"
	"\n"
	"Example:\n"
	"  cutoverctl pool set api.app.example --group blue=192.0.2.10 --group green=192.0.2.20\n";

static const char set_usage[] =
	"Usage: cutoverctl [--db DIR] pool set NAME --group GROUP=ADDR[,ADDR...] [--group ...]\n"
	"         [--type A|AAAA] [--ttl SECONDS] [--policy weighted|sticky|failover]\n"
	"         [--answers N] [--preview-prefix P | --no-preview] [--weight GROUP=W ...]\n"
	"         [--check SPEC [--check-host NAME] [--expect-status N[-M]] [--expect-body TEXT]\n"
	"          [--insecure] [--interval DUR] [--timeout DUR] [--rise N] [--fall N] | --no-check]\n"
	"         [--all-down serve-all|nodata] [--actor NAME]\n"
	"\n"
	"Create the pool NAME (type A unless --type says AAAA), or replace it: its groups become\n"
	"the --group options, in their order. NAME must lie inside a zone of the database, not\n"
	"at or below a delegation, and must not hold static records of the pool's type or a\n"
	"CNAME. One transaction writes the pool, records the change in history and bumps the\n"
	"zone's serial; on any error nothing is written.\n"
	"\n"
	"The options describe the whole pool, but for its weights: settings left out take their\n"
	"defaults (TTL 30, policy weighted, all addresses in each answer, preview names on\n"
	"with no prefix, no health check, all-down serve-all), also when the pool is replaced:\n"
	"replacing a pool without --check removes its check. Weights: a new pool gives its first\n"
	"group 100 and the others 0; a replaced pool keeps the weight of every group that\n"
	"keeps its name (new groups get 0), so that redefining a pool does not move traffic.\n"
	"--weight overrides both.\n"
	"\n"
	"Options:\n"
	"  --group GROUP=ADDR[,ADDR...]  a group and its target addresses (repeat for each\n"
	"                        group; at most 16 groups of 64 addresses). GROUP is 1 to 63\n"
	"                        letters, digits, '-' or '_'. 'GROUP=' makes a group without\n"
	"                        targets, which is never answered.\n"
	"  --type A|AAAA         the pool's record type (default A); addresses must match it\n"
	"  --ttl SECONDS         TTL of the answers, 0 to 2147483647 (default 30: low, so that\n"
	"                        a shift takes effect quickly)\n"
	"  --policy P            how an answer picks its group: weighted (at random, by weight),\n"
	"                        sticky (by the client's subnet, so a client keeps its group),\n"
	"                        failover (the first group in order with a live target)\n"
	"  --answers N           the most addresses in one answer, 0 for all (default 0)\n"
	"  --weight GROUP=W      the weight of a group given with --group, 0 to 1000000\n"
	"  --preview-prefix P    preview names are P + GROUP in front of NAME, e.g. with\n"
	"                        'pv-': pv-green.NAME (default: no prefix, green.NAME); they\n"
	"                        always answer that group, to test it before it takes traffic\n"
	"  --no-preview          no preview names\n"
	"  --actor NAME          who is recorded in history (default: the login user)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Health checks: cutoverd checks every target of the pool; a target that fails --fall\n"
	"checks in a row leaves the answers, one that passes --rise checks in a row comes back.\n"
	"A target never checked counts as up. DUR is a number with ms, s or m (200ms, 1.5s, 2m).\n"
	"  --check SPEC          tcp:PORT (connect), http:PORT[/PATH] or https:PORT[/PATH] (GET;\n"
	"                        PATH defaults to /), on each target's address\n"
	"  --check-host NAME     http(s): the Host header, and the name the TLS certificate is\n"
	"                        verified against (default: the target's address)\n"
	"  --expect-status N[-M] http(s): the status, or range, that passes (default 200-399)\n"
	"  --expect-body TEXT    http(s): text the response body must contain (default: none)\n"
	"  --insecure            https: do not verify the certificate\n"
	"  --interval DUR        time between two checks of a target, 100ms to 60m (default 1s)\n"
	"  --timeout DUR         how long a check may take, at most the interval (default 1s, or\n"
	"                        the interval when that is shorter)\n"
	"  --rise N              passes in a row to come back, 1 to 100 (default 2)\n"
	"  --fall N              failures in a row to leave the answers, 1 to 100 (default 3)\n"
	"  --no-check            no health check (as leaving --check out; says so explicitly)\n"
	"  --all-down MODE       when no target is healthy (all down or drained): serve-all\n"
	"                        answers as if they were up (fail open, the default); nodata\n"
	"                        answers NODATA\n"
	"\n"
	"Examples:\n"
	"  cutoverctl pool set api.app.example --group blue=192.0.2.10,192.0.2.11 \\\n"
	"      --group green=198.51.100.10,198.51.100.11\n"
	"  cutoverctl pool set api.app.example --type AAAA --ttl 60 \\\n"
	"      --group blue=2001:db8:b1::10 --group green=2001:db8:9e::10 --weight green=0\n"
	"  cutoverctl pool set api.app.example --group blue=192.0.2.10 \\\n"
	"      --group green=198.51.100.10 --check https:8443/healthz \\\n"
	"      --check-host api.app.example --interval 500ms --fall 2\n";

static const char show_usage[] =
	"Usage: cutoverctl [--db DIR] pool show NAME [--type A|AAAA] [--json]\n"
	"\n"
	"Print the pools at NAME (A and AAAA, or only --type's) in the pool file format that\n"
	"'cutoverctl apply' reads, or as JSON: {\"pools\": [POOL...]}, each POOL with name,\n"
	"zone, type, policy, ttl, answers, preview, preview_prefix and groups (name, weight,\n"
	"share, targets, preview_name). Exit status 1 when NAME has no pool.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --json         JSON instead of the pool file format\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl pool show api.app.example\n";

static const char list_usage[] =
	"Usage: cutoverctl [--db DIR] pool list [ZONE] [--json]\n"
	"\n"
	"List the pools (of ZONE, or of every zone): name, type, policy, TTL, answers and the\n"
	"groups' weights. --json prints {\"pools\": [POOL...]} as 'pool show --json' does.\n"
	"\n"
	"Options:\n"
	"  --json      JSON instead of a table\n"
	"  -h, --help  show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl pool list app.example\n";

static const char delete_usage[] =
	"Usage: cutoverctl [--db DIR] pool delete NAME [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Remove the pools at NAME (A and AAAA, or only --type's) with their preview names, in\n"
	"one transaction recorded in history; the zone's serial goes up. NAME then answers\n"
	"from the zone's static records (usually NXDOMAIN or NODATA). 'cutoverctl rollback\n"
	"NAME' brings a deleted pool back.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --actor NAME   who is recorded in history (default: the login user)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl pool delete api.app.example --type AAAA\n";
/* clang-format on */

/* ------------------------------------------------------------------------------------------
 * pool set */

enum {
	OPT_GROUP = 256,
	OPT_WEIGHT,
	OPT_TTL,
	OPT_POLICY,
	OPT_ANSWERS,
	OPT_PREFIX,
	OPT_NO_PREVIEW,
	OPT_NO_CHECK
};
#define OPT_CHECK 300 /* + CT_CHECKKEY_*: --check, --check-host, ... --all-down */

typedef struct {
	const char *groups[CT_POOL_MAX_GROUPS]; /* --group values, parsed once the type is known */
	int ngroups;
	const char *weights[CT_POOL_MAX_GROUPS]; /* --weight values */
	int nweights;
	bool have_ttl, have_policy, have_answers, have_prefix, no_preview;
	uint32_t ttl, answers;
	int policy;
	const char *prefix;
	ct_checkargs_t check; /* --check and its settings, --all-down */
	bool no_check;
	ct_pool_t spec;                      /* the groups and targets given */
	uint32_t weight[CT_POOL_MAX_GROUPS]; /* by spec group */
	bool weight_given[CT_POOL_MAX_GROUPS];
	ct_pool_t old, pool;
} set_args_t;

/* --no-check with a setting of the check it removes: which one was meant? */
static int no_check_conflict(ct_poolcmd_t *cmd, const set_args_t *a)
{
	for (int k = CT_CHECKKEY_CHECK; a->no_check && k < CT_CHECKKEY_ALLDOWN; k++) {
		if (a->check.given & (1u << k)) {
			return ct_poolcmd_bad(cmd, "--no-check and --%s exclude each other",
			                      ct_checktext_key_name(k));
		}
	}
	return -1;
}

/* One of the health check options (--check ... --all-down). */
static int check_option(ct_poolcmd_t *cmd, set_args_t *a, int key, const char *arg)
{
	char err[512];
	if (!ct_checkargs_set(&a->check, key, arg, err, sizeof(err))) {
		return ct_poolcmd_bad(cmd, "--%s %s", ct_checktext_key_name(key), err);
	}
	return no_check_conflict(cmd, a);
}

static int set_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	set_args_t *a = cmd->ctx;
	switch (c) {
	case OPT_GROUP:
		if (a->ngroups == CT_POOL_MAX_GROUPS) {
			return ct_poolcmd_bad(cmd, "--group %s: a pool has at most %d groups", arg,
			                      CT_POOL_MAX_GROUPS);
		}
		a->groups[a->ngroups++] = arg;
		break;
	case OPT_WEIGHT:
		if (a->nweights == CT_POOL_MAX_GROUPS) {
			return ct_poolcmd_bad(
			    cmd, "--weight %s: more weights than a pool has groups", arg);
		}
		a->weights[a->nweights++] = arg;
		break;
	case OPT_TTL:
		if (!ct_pooltext_uint(arg, CT_ZONEFILE_MAXTTL, &a->ttl)) {
			return ct_poolcmd_bad(cmd, "--ttl '%s': a number of seconds from 0 to %u",
			                      arg, CT_ZONEFILE_MAXTTL);
		}
		a->have_ttl = true;
		break;
	case OPT_POLICY:
		if ((a->policy = ct_pooltext_policy(arg)) < 0) {
			return ct_poolcmd_bad(
			    cmd, "--policy '%s': use weighted, sticky or failover", arg);
		}
		a->have_policy = true;
		break;
	case OPT_ANSWERS:
		if (!ct_pooltext_uint(arg, UINT16_MAX, &a->answers)) {
			return ct_poolcmd_bad(cmd, "--answers '%s': a number from 0 (all) to %u",
			                      arg, UINT16_MAX);
		}
		a->have_answers = true;
		break;
	case OPT_PREFIX:
		if (!ct_pool_label_ok(arg, true)) {
			return ct_poolcmd_bad(cmd,
			                      "--preview-prefix '%s': at most %d letters, digits, "
			                      "'-' or '_'",
			                      arg, CT_POOL_NAMELEN);
		}
		a->prefix = arg;
		a->have_prefix = true;
		break;
	case OPT_NO_PREVIEW:
		a->no_preview = true;
		break;
	case OPT_NO_CHECK:
		a->no_check = true;
		break;
	default:
		return check_option(cmd, a, c - OPT_CHECK, arg);
	}
	if (a->have_prefix && a->no_preview) {
		return ct_poolcmd_bad(cmd, "--preview-prefix and --no-preview exclude each other");
	}
	return no_check_conflict(cmd, a);
}

/* One --group GROUP=ADDR[,ADDR...] into the next group of a->spec. */
static int parse_group(ct_poolcmd_t *cmd, set_args_t *a, const char *arg)
{
	ct_pool_t *spec = &a->spec;
	ct_pool_group_t *gr = &spec->groups[spec->ngroups];
	const char *eq = strchr(arg, '=');
	char err[256], addr[CT_POOLTEXT_ADDRLEN + 1];
	if (eq == NULL) {
		return ct_poolcmd_bad(
		    cmd,
		    "--group %s: write GROUP=ADDR[,ADDR...] (or GROUP= for a group "
		    "without targets)",
		    arg);
	}
	size_t nlen = (size_t)(eq - arg);
	if (nlen == 0 || nlen > CT_POOL_NAMELEN) {
		return ct_poolcmd_bad(cmd, "--group %s: the group name must be 1 to %d characters",
		                      arg, CT_POOL_NAMELEN);
	}
	memset(gr, 0, sizeof(*gr));
	memcpy(gr->name, arg, nlen);
	if (!ct_pool_label_ok(gr->name, false)) {
		return ct_poolcmd_bad(
		    cmd, "--group %s: group name '%s': use letters, digits, '-' and '_'", arg,
		    gr->name);
	}
	if (ct_pool_group_find(spec, gr->name) >= 0) {
		return ct_poolcmd_bad(cmd, "--group %s: group '%s' is given twice", arg, gr->name);
	}
	/* "GROUP=": a group without targets */
	for (const char *p = eq + 1; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof(addr) || (end != NULL && end[1] == '\0')) {
			return ct_poolcmd_bad(cmd, "--group %s: %s", arg,
			                      len >= sizeof(addr)
			                          ? "an address is too long"
			                          : "an address is empty (a stray comma?)");
		}
		memcpy(addr, p, len);
		addr[len] = '\0';
		if (gr->ntargets == CT_POOL_MAX_TARGETS) {
			return ct_poolcmd_bad(cmd, "--group %s: at most %d addresses in a group",
			                      gr->name, CT_POOL_MAX_TARGETS);
		}
		uint8_t *target = gr->targets[gr->ntargets];
		if (!ct_pooltext_addr(spec->type, addr, target, err, sizeof(err))) {
			return ct_poolcmd_bad(cmd, "--group %s: %s", gr->name, err);
		}
		for (int t = 0; t < gr->ntargets; t++) {
			if (memcmp(gr->targets[t], target, 16) == 0) {
				return ct_poolcmd_bad(cmd, "--group %s: %s is listed twice",
				                      gr->name, addr);
			}
		}
		gr->ntargets++;
		p += len + (end != NULL ? 1 : 0);
	}
	spec->ngroups++;
	return -1;
}

/* One --weight GROUP=W for a group given with --group. */
static int parse_weight(ct_poolcmd_t *cmd, set_args_t *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[CT_POOL_NAMELEN + 1];
	uint32_t w;
	if (eq == NULL || eq == arg || (size_t)(eq - arg) > CT_POOL_NAMELEN) {
		return ct_poolcmd_bad(cmd, "--weight %s: write GROUP=WEIGHT", arg);
	}
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	int g = ct_pool_group_find(&a->spec, name);
	if (g < 0) {
		return ct_poolcmd_bad(cmd, "--weight %s: there is no --group %s", arg, name);
	}
	if (!ct_pooltext_uint(eq + 1, CT_POOL_MAX_WEIGHT, &w)) {
		return ct_poolcmd_bad(cmd,
		                      "--weight %s: the weight must be a whole number from 0 to %d",
		                      arg, CT_POOL_MAX_WEIGHT);
	}
	if (a->weight_given[g]) {
		return ct_poolcmd_bad(cmd, "--weight %s: group '%s' is weighted twice", arg, name);
	}
	a->weight[g] = w;
	a->weight_given[g] = true;
	return -1;
}

/* The pool to write: as given, with the defaults for what is not, and the weights of old.
 * Returns -1, or the health check setting at fault with a message in err. */
static int build_pool(set_args_t *a, bool exists, char *err, size_t errlen)
{
	ct_pool_t *p = &a->pool;
	memset(p, 0, sizeof(*p));
	p->type = a->spec.type;
	p->ttl = a->have_ttl ? a->ttl : CT_POOL_DEFAULT_TTL;
	p->policy = a->have_policy ? (uint8_t)a->policy : CT_POLICY_WEIGHTED;
	p->answers = a->have_answers ? (uint16_t)a->answers : 0;
	if (a->have_prefix) {
		snprintf(p->preview_prefix, sizeof(p->preview_prefix), "%s", a->prefix);
	}
	p->flags = a->no_preview ? CT_POOL_NO_PREVIEW : 0;
	p->ngroups = a->spec.ngroups;
	for (int g = 0; g < a->spec.ngroups; g++) {
		int o = exists ? ct_pool_group_find(&a->old, a->spec.groups[g].name) : -1;
		p->groups[g] = a->spec.groups[g];
		p->groups[g].weight = a->weight_given[g]  ? a->weight[g]
		                      : o >= 0            ? a->old.groups[o].weight
		                      : !exists && g == 0 ? 100
		                                          : 0;
	}
	return ct_checkargs_apply(&a->check, "--", p, err, errlen);
}

static int pool_set(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "weight", required_argument, NULL, OPT_WEIGHT },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "answers", required_argument, NULL, OPT_ANSWERS },
		{ "preview-prefix", required_argument, NULL, OPT_PREFIX },
		{ "no-preview", no_argument, NULL, OPT_NO_PREVIEW },
		{ "check", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_CHECK },
		{ "check-host", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_HOST },
		{ "expect-status", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_STATUS },
		{ "expect-body", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_BODY },
		{ "insecure", no_argument, NULL, OPT_CHECK + CT_CHECKKEY_INSECURE },
		{ "interval", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_INTERVAL },
		{ "timeout", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_TIMEOUT },
		{ "rise", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_RISE },
		{ "fall", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_FALL },
		{ "all-down", required_argument, NULL, OPT_CHECK + CT_CHECKKEY_ALLDOWN },
		{ "no-check", no_argument, NULL, OPT_NO_CHECK },
		{ NULL, 0, NULL, 0 },
	};
	set_args_t *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		ct_ctl_err("pool set: %s", ct_strerror(CT_ENOMEM));
		return CT_CTL_FAIL;
	}
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "pool set",
		             .usage = set_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .extra = opts,
		             .on_opt = set_option,
		             .ctx = a,
		             .min_ops = 1,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	bool changed = false, exists = false;
	int status = ct_poolcmd_parse(&cmd, argc, argv);
	if (status < 0 && a->ngroups == 0) {
		status = ct_poolcmd_bad(&cmd, "missing --group: a pool needs at least one group "
		                              "(--group blue=ADDR,...)");
	}
	a->spec.type = cmd.type != 0 ? cmd.type : CT_TYPE_A;
	for (int i = 0; status < 0 && i < a->ngroups; i++) {
		status = parse_group(&cmd, a, a->groups[i]);
	}
	for (int i = 0; status < 0 && i < a->nweights; i++) {
		status = parse_weight(&cmd, a, a->weights[i]);
	}
	char err[512];
	if (status < 0 && (build_pool(a, false, err, sizeof(err)) >= 0 ||
	                   ct_pool_check(&a->pool, err, sizeof(err)) != CT_EOK)) {
		status = ct_poolcmd_bad(&cmd, "%s", err);
	}
	if (status < 0) {
		status = ct_poolcmd_open(&cmd, owner, &st, &txn, true);
	}
	if (status >= 0) {
		free(a);
		return status;
	}
	int ret = ct_pool_get(&txn, owner, a->spec.type, &a->old);
	exists = ret == CT_EOK;
	build_pool(a, exists, err, sizeof(err)); /* as above: it passed */
	/* CT_ENOZONE: ct_pool_put explains it */
	bool ok = (ret == CT_EOK || ret == CT_ENOTFOUND || ret == CT_ENOZONE) &&
	          ct_poolcmd_put(&cmd, &txn, owner, &a->pool, "pool set", &changed) == CT_EOK;
	if (ret != CT_EOK && ret != CT_ENOTFOUND && ret != CT_ENOZONE) {
		ct_ctl_txn_err(&st, ret, "pool set");
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "pool set: nothing written");
	if (status == CT_CTL_OK) {
		ct_poolcmd_report(owner, a->spec.type, exists ? "replaced" : "created",
		                  exists ? &a->old : NULL, &a->pool, changed);
	}
	free(a);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * pool show, pool list */

static int pool_show(const ct_ctl_t *ctl, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "pool show",
		             .usage = show_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_JSON,
		             .min_ops = 1,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, owner, &st, &txn, false);
	if (status >= 0) {
		return status;
	}
	ct_poolset_t *set = malloc(sizeof(*set));
	bool ok = set != NULL && ct_poolset_load(&cmd, &txn, owner, set) == CT_EOK;
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "pool show");
	if (status == CT_CTL_OK && cmd.json) {
		json_t *pools, *doc = ct_pooljson_doc("pools", &pools);
		for (int i = 0; doc != NULL && i < set->n; i++) {
			MDB_val key = { set->klen[i], set->keys[i] };
			if (json_array_append_new(pools, ct_pooljson_pool(&key, &set->pools[i])) !=
			    0) {
				json_decref(doc);
				doc = NULL;
			}
		}
		status = ct_pooljson_print(doc);
	} else if (status == CT_CTL_OK) {
		for (int i = 0; i < set->n; i++) {
			printf("%s", i > 0 ? "\n" : "");
			ct_poolfile_write(stdout, owner, &set->pools[i]);
		}
	}
	free(set);
	return status;
}

typedef struct {
	json_t *pools; /* --json: the array to fill */
	bool print;    /* the table: first a pass to measure the name column, then one to print */
	int width, count;
	bool failed;
} list_t;

static bool list_one(const MDB_val *key, const ct_pool_t *pool, void *arg)
{
	list_t *l = arg;
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	char name[CT_DNAME_STRLEN], answers[8] = "all";
	l->count++;
	if (l->pools != NULL) {
		l->failed |= json_array_append_new(l->pools, ct_pooljson_pool(key, pool)) != 0;
		return !l->failed;
	}
	if (ct_pool_key_owner(key, owner, &type) != CT_EOK) {
		l->failed = true;
		return false;
	}
	ct_dname_to_str(owner, name);
	if (!l->print) {
		l->width = (int)strlen(name) > l->width ? (int)strlen(name) : l->width;
		return true;
	}
	if (pool->answers > 0) {
		snprintf(answers, sizeof(answers), "%u", pool->answers);
	}
	printf("%-*s  %-4s  %-8s  %6u  %7s  ", l->width, name, ct_pooltext_type_name(type),
	       ct_pooltext_policy_name(pool->policy), pool->ttl, answers);
	ct_pooltext_weights(stdout, pool);
	fputc('\n', stdout);
	return true;
}

static int pool_list(const ct_ctl_t *ctl, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "pool list",
		             .usage = list_usage,
		             .takes = CT_POOLOPT_JSON,
		             .min_ops = 0,
		             .max_ops = 1 };
	uint8_t zone[CT_DNAME_MAXLEN];
	char text[CT_DNAME_STRLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, zone, &st, &txn, false);
	if (status >= 0) {
		return status;
	}
	if (cmd.nops == 1) {
		ct_dname_to_str(zone, text);
	}
	list_t l = { .width = 4 };
	json_t *doc = cmd.json ? ct_pooljson_doc("pools", &l.pools) : NULL;
	int ret = cmd.json && doc == NULL
	              ? CT_ENOMEM
	              : ct_poolcmd_each(&txn, cmd.nops == 1 ? zone : NULL, list_one, &l);
	ret = ret == CT_EOK && l.failed ? CT_ENOMEM : ret;
	if (ret == CT_EOK && !cmd.json) {
		printf("%-*s  %-4s  %-8s  %6s  %7s  %s\n", l.width, "NAME", "TYPE", "POLICY", "TTL",
		       "ANSWERS", "WEIGHTS");
		l.print = true;
		ret = ct_poolcmd_each(&txn, cmd.nops == 1 ? zone : NULL, list_one, &l);
	}
	if (ret == CT_ENOZONE) {
		ct_poolcmd_err(&cmd, "no zone %s in %s; 'cutoverctl zone list' shows the zones",
		               text, ctl->db);
	} else if (ret != CT_EOK) {
		ct_ctl_txn_err(&st, ret, "pool list");
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ret == CT_EOK, "pool list");
	if (status == CT_CTL_OK && cmd.json) {
		status = ct_pooljson_print(doc);
		doc = NULL;
	} else if (status == CT_CTL_OK && l.count == 0) {
		ct_ctl_err("no pools%s%s yet; create one with 'cutoverctl pool set' or "
		           "'cutoverctl apply'",
		           cmd.nops == 1 ? " in " : "", cmd.nops == 1 ? text : "");
	}
	json_decref(doc);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * pool delete */

static int pool_delete(const ct_ctl_t *ctl, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "pool delete",
		             .usage = delete_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .min_ops = 1,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	char err[512];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, owner, &st, &txn, true);
	if (status >= 0) {
		return status;
	}
	ct_poolset_t *set = malloc(sizeof(*set));
	bool ok = set != NULL && ct_poolset_load(&cmd, &txn, owner, set) == CT_EOK;
	for (int i = 0; ok && i < set->n; i++) {
		int ret = ct_pool_delete(&txn, owner, set->pools[i].type, cmd.actor, "pool delete",
		                         err, sizeof(err));
		if (ret != CT_EOK) {
			ct_ctl_txn_err(&st, ret, "pool delete");
			ok = false;
		}
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "pool delete: nothing deleted");
	for (int i = 0; status == CT_CTL_OK && i < set->n; i++) {
		ct_poolcmd_report(owner, set->pools[i].type, "deleted", &set->pools[i], NULL, true);
	}
	free(set);
	return status;
}

int ct_ctl_pool(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const ct_ctl_t *ctl, int argc, char **argv);
	} subs[] = {
		{ "set", pool_set },
		{ "show", pool_show },
		{ "list", pool_list },
		{ "delete", pool_delete },
	};
	if (ct_ctl_wants_help(argc, argv)) {
		fputs(pool_usage, stdout);
		return CT_CTL_OK;
	}
	if (argc < 2) {
		ct_ctl_err("pool: which subcommand?");
		fputs(pool_usage, stderr);
		return CT_CTL_USAGE;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			return subs[i].run(ctl, argc - 1, argv + 1);
		}
	}
	ct_ctl_err("pool: unknown subcommand '%s'", argv[1]);
	fputs(pool_usage, stderr);
	return CT_CTL_USAGE;
}
