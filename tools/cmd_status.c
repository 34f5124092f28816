/* SPDX-License-Identifier: MIT */
/* cutoverctl status and history: where traffic goes now, and who moved it when. */
#include "ctl.h"
#include "poolcmd.h"
#include "pooljson.h"
#include "pooltext.h"
#include "cutover/errcode.h"
#include "cutover/history.h"
#include "cutover/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char status_usage[] =
	"Usage: cutoverctl [--db DIR] status [NAME] [--type A|AAAA] [--json]\n"
	"\n"
	"Show the pools at NAME (A and AAAA, or only --type's), or every pool: policy, TTL,\n"
	"answers per reply, and for each group its weight, its share of the answers, its\n"
	"preview name and its targets. The share is what cutoverd serves while all targets\n"
	"are up: weight / sum of the weights of the groups with targets (all weights 0: equal\n"
	"shares); for failover, 100 % for the first group with targets and weight above 0. A\n"
	"group without targets is never answered.\n"
	"\n"
	"--json prints {\"pools\": [POOL...]}, each POOL with name, zone, type, policy, ttl,\n"
	"answers (0 = all), preview, preview_prefix and groups: [{name, weight, share (percent),\n"
	"targets, preview_name (null when previews are off)}].\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only pools of this type\n"
	"  --json         JSON instead of tables\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl status api.app.example\n";

static const char history_usage[] =
	"Usage: cutoverctl [--db DIR] history [NAME] [--type A|AAAA] [--limit N] [--json]\n"
	"\n"
	"Show the recorded changes of the pools at NAME (A and AAAA, or only --type's), or of\n"
	"every pool, newest first: time (ISO 8601, UTC), actor, pool, action (pool set, pool\n"
	"delete, weight, cutover, rollback, apply, apply --prune) and what changed, as weights\n"
	"before -> after ('-' when there was or is no pool) followed by the other changes:\n"
	"ttl, policy, answers, preview, groups added (+group) or removed (-group), and\n"
	"targets added (+ADDR) or removed (-ADDR).\n"
	"\n"
	"--json prints {\"history\": [ENTRY...]}, each ENTRY with seq, time, time_ms, actor,\n"
	"name, zone, type, action, summary (the text above), and before and after (pool\n"
	"objects as in 'status --json', or null).\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only changes of pools of this type\n"
	"  --limit N      only the N newest changes (default: all)\n"
	"  --json         JSON instead of a table\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl history api.app.example --limit 10\n";
/* clang-format on */

/* ------------------------------------------------------------------------------------------
 * status */

static void print_status(const MDB_val *key, const ct_pool_t *pool)
{
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	char label[CT_POOLTEXT_LABELLEN], name[CT_DNAME_STRLEN], addr[CT_POOLTEXT_ADDRLEN];
	char preview[CT_POOL_MAX_GROUPS][CT_DNAME_STRLEN + 2 * CT_POOL_NAMELEN + 2];
	double share[CT_POOL_MAX_GROUPS];
	int gw = 5, pw = 7;
	bool zero = true;
	if (ct_pool_key_owner(key, owner, &type) != CT_EOK) {
		return;
	}
	ct_dname_to_str(owner, name);
	ct_pooltext_shares(pool, share);
	for (int g = 0; g < pool->ngroups; g++) {
		const ct_pool_group_t *gr = &pool->groups[g];
		if (pool->flags & CT_POOL_NO_PREVIEW) {
			snprintf(preview[g], sizeof(preview[g]), "-");
		} else {
			snprintf(preview[g], sizeof(preview[g]), "%s%s.%s", pool->preview_prefix,
			         gr->name, owner[0] == 0 ? "" : name);
		}
		gw = (int)strlen(gr->name) > gw ? (int)strlen(gr->name) : gw;
		pw = (int)strlen(preview[g]) > pw ? (int)strlen(preview[g]) : pw;
		zero &= gr->weight == 0;
	}
	printf("%s  policy %s  ttl %u  answers ", ct_pooltext_label(owner, type, label),
	       ct_pooltext_policy_name(pool->policy), pool->ttl);
	if (pool->answers == 0) {
		printf("all\n");
	} else {
		printf("%u\n", pool->answers);
	}
	printf("  %-*s  %7s  %6s  %-*s  %s\n", gw, "GROUP", "WEIGHT", "SHARE", pw, "PREVIEW",
	       "TARGETS");
	for (int g = 0; g < pool->ngroups; g++) {
		const ct_pool_group_t *gr = &pool->groups[g];
		printf("  %-*s  %7u  %5.1f%%  %-*s ", gw, gr->name, gr->weight, share[g], pw,
		       preview[g]);
		for (int t = 0; t < gr->ntargets; t++) {
			printf(" %s", ct_pooltext_addr_str(type, gr->targets[t], addr));
		}
		printf("%s\n", gr->ntargets == 0 ? " (none: never answered)" : "");
	}
	if (zero) {
		printf("  every weight is 0: the groups with targets share the answers equally\n");
	}
}

typedef struct {
	uint16_t type; /* 0: every type */
	json_t *pools; /* --json: the array to fill */
	int count;
	bool failed;
} status_t;

static bool status_one(const MDB_val *key, const ct_pool_t *pool, void *arg)
{
	status_t *s = arg;
	if (s->type != 0 && pool->type != s->type) {
		return true;
	}
	if (s->pools != NULL) {
		s->failed |= json_array_append_new(s->pools, ct_pooljson_pool(key, pool)) != 0;
		return !s->failed;
	}
	printf("%s", s->count > 0 ? "\n" : "");
	print_status(key, pool);
	s->count++;
	return true;
}

int ct_ctl_status(const ct_ctl_t *ctl, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "status",
		             .usage = status_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_JSON,
		             .min_ops = 0,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, owner, &st, &txn, false);
	if (status >= 0) {
		return status;
	}
	status_t s = { .type = cmd.type };
	json_t *doc = cmd.json ? ct_pooljson_doc("pools", &s.pools) : NULL;
	ct_poolset_t *set = NULL;
	bool ok = !cmd.json || doc != NULL;
	if (ok && cmd.nops == 1) {
		/* the pools at NAME: read them all before printing anything */
		set = malloc(sizeof(*set));
		ok = set != NULL && ct_poolset_load(&cmd, &txn, owner, set) == CT_EOK;
		for (int i = 0; ok && i < set->n; i++) {
			MDB_val key = { set->klen[i], set->keys[i] };
			status_one(&key, &set->pools[i], &s);
		}
	} else if (ok) {
		int ret = ct_poolcmd_each(&txn, NULL, status_one, &s);
		if (ret != CT_EOK) {
			ct_ctl_txn_err(&st, ret, "status");
			ok = false;
		}
	}
	ok = ok && !s.failed;
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "status");
	if (status == CT_CTL_OK && cmd.json) {
		status = ct_pooljson_print(doc);
		doc = NULL;
	} else if (status == CT_CTL_OK && s.count == 0) {
		ct_ctl_err(
		    "no pools yet; create one with 'cutoverctl pool set' or 'cutoverctl apply'");
	}
	json_decref(doc);
	free(set);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * history */

typedef struct {
	const uint8_t *owner; /* only this name's pools, or NULL */
	uint16_t type;        /* only this type, or 0 */
	uint32_t limit;       /* 0: all */
	uint32_t count;
	json_t *entries; /* --json: the array to fill */
	bool print;      /* the table: a pass to measure the columns, then one to print */
	int aw, pw, cw;  /* widths: actor, pool, action */
	int ret;
} history_t;

static bool history_one(const ct_history_t *h, void *arg)
{
	history_t *hs = arg;
	MDB_val key = { h->object_len, (void *)h->object };
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	char label[CT_POOLTEXT_LABELLEN], when[CT_POOLTEXT_TIMELEN];
	if (ct_pool_key_owner(&key, owner, &type) != CT_EOK) {
		hs->ret = CT_EDBCORRUPT;
		return false;
	}
	if ((hs->owner != NULL && !ct_dname_eq(owner, hs->owner)) ||
	    (hs->type != 0 && type != hs->type)) {
		return true;
	}
	if (hs->limit != 0 && hs->count == hs->limit) {
		return false;
	}
	hs->count++;
	ct_pooltext_label(owner, type, label);
	if (hs->entries != NULL) {
		json_t *e = ct_pooljson_history(h);
		if (e == NULL || json_array_append_new(hs->entries, e) != 0) {
			hs->ret = e == NULL ? CT_EDBCORRUPT : CT_ENOMEM;
			return false;
		}
	} else if (!hs->print) {
		hs->aw = (int)h->actor_len > hs->aw ? (int)h->actor_len : hs->aw;
		hs->pw = (int)strlen(label) > hs->pw ? (int)strlen(label) : hs->pw;
		hs->cw = (int)h->action_len > hs->cw ? (int)h->action_len : hs->cw;
	} else {
		ct_pool_t *pools = malloc(2 * sizeof(*pools));
		if (pools == NULL ||
		    (h->before_len > 0 &&
		     ct_pool_decode(h->before, h->before_len, &pools[0]) != 0) ||
		    (h->after_len > 0 && ct_pool_decode(h->after, h->after_len, &pools[1]) != 0)) {
			hs->ret = pools == NULL ? CT_ENOMEM : CT_EDBCORRUPT;
			free(pools);
			return false;
		}
		printf("%-20s  %-*.*s  %-*s  %-*.*s  ", ct_pooltext_time(h->time_ms, when), hs->aw,
		       (int)h->actor_len, h->actor, hs->pw, label, hs->cw, (int)h->action_len,
		       h->action);
		ct_pooltext_change(stdout, h->before_len > 0 ? &pools[0] : NULL,
		                   h->after_len > 0 ? &pools[1] : NULL);
		fputc('\n', stdout);
		free(pools);
	}
	return true;
}

static int history_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	history_t *hs = cmd->ctx;
	if (!ct_pooltext_uint(arg, UINT32_MAX, &hs->limit) || hs->limit == 0) {
		return ct_poolcmd_bad(cmd, "--limit '%s': a number of changes, 1 or more", arg);
	}
	return -1;
}

int ct_ctl_history(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	history_t hs = { .aw = 5, .pw = 4, .cw = 6 };
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "history",
		             .usage = history_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_JSON,
		             .extra = opts,
		             .on_opt = history_option,
		             .ctx = &hs,
		             .min_ops = 0,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, owner, &st, &txn, false);
	if (status >= 0) {
		return status;
	}
	hs.owner = cmd.nops == 1 ? owner : NULL;
	hs.type = cmd.type;
	json_t *doc = cmd.json ? ct_pooljson_doc("history", &hs.entries) : NULL;
	hs.ret = cmd.json && doc == NULL ? CT_ENOMEM : CT_EOK;
	if (hs.ret == CT_EOK) {
		ct_history_foreach(&txn, NULL, 0, history_one, &hs);
	}
	if (hs.ret == CT_EOK && txn.ret == CT_EOK && !cmd.json) {
		printf("%-20s  %-*s  %-*s  %-*s  %s\n", "TIME", hs.aw, "ACTOR", hs.pw, "POOL",
		       hs.cw, "ACTION", "CHANGE (WEIGHTS BEFORE -> AFTER; OTHER CHANGES)");
		hs.print = true;
		hs.count = 0;
		ct_history_foreach(&txn, NULL, 0, history_one, &hs);
	}
	if (hs.ret != CT_EOK) {
		ct_ctl_txn_err(&st, hs.ret, "history");
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, hs.ret == CT_EOK, "history");
	if (status == CT_CTL_OK && cmd.json) {
		status = ct_pooljson_print(doc);
		doc = NULL;
	} else if (status == CT_CTL_OK && hs.count == 0) {
		ct_ctl_err("no changes recorded%s%s", hs.owner != NULL ? " for " : "",
		           hs.owner != NULL ? cmd.ops[0] : "");
	}
	json_decref(doc);
	return status;
}
