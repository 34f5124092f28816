/* SPDX-License-Identifier: MIT */
/* cutoverctl status and history: where traffic goes now, and who moved it when. */
#include "ctl.h"
#include "cutover/checktext.h"
#include "poolcmd.h"
#include "cutover/poolhealth.h"
#include "cutover/pooljson.h"
#include "cutover/pooltext.h"
#include "cutover/rollout.h"
#include "cutover/rolloutjson.h"
#include "rollouttext.h"
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
	"answers per reply, and for each group its weight, its share of the answers, how many of\n"
	"its targets are healthy, its preview name and its targets. The share is what cutoverd\n"
	"serves while all targets are up: weight / sum of the weights of the groups with targets\n"
	"(all weights 0: equal shares); for failover, 100 % for the first group with targets and\n"
	"weight above 0. A group without targets is never answered.\n"
	"\n"
	"Then the health check and a line per target: its state as cutoverd's prober last wrote\n"
	"it (up, down, or unknown: never checked, which counts as up), whether it is drained\n"
	"('cutoverctl drain'), since when it has its state, the time and result of its last\n"
	"check, the check's latency and the last error. A target is healthy when it is neither\n"
	"down nor drained; cutoverd answers with healthy targets only. When no target of a pool\n"
	"is healthy, status says what cutoverd does: fail open (answer as if all were up, the\n"
	"default) or NODATA (all-down nodata). Times are ISO 8601, UTC.\n"
	"\n"
	"While a shift runs on a pool ('cutoverctl shift'), a line under the groups says where\n"
	"it is: its step, GROUP's percent and when the next step is due ('shift status' tells\n"
	"more).\n"
	"\n"
	"--json prints {\"pools\": [POOL...]}, each POOL with name, zone, type, policy, ttl,\n"
	"answers (0 = all), preview, preview_prefix, check (null, or {kind, port, path, host,\n"
	"status_min, status_max, expect_body, insecure, interval_ms, timeout_ms, rise, fall}),\n"
	"all_down (serve-all or nodata), groups: [{name, weight, share (percent), targets,\n"
	"preview_name (null when previews are off), healthy (count), health: [{address, state,\n"
	"drained, healthy, since, since_ms, last_check, last_check_ms, last_ok, latency_us,\n"
	"ok_run, fail_run, error}]}], answering: live-targets, fail-open, nodata or\n"
	"no-targets, and shift: null, or the pool's running or paused shift as 'shift status\n"
	"--json' gives it. Times never reached, and errors that are none, are null.\n"
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
	"delete, weight, cutover, rollback, apply, apply --prune, drain ADDR, undrain ADDR) and\n"
	"what changed, as weights before -> after ('-' when there was or is no pool) followed by\n"
	"the other changes: ttl, policy, answers, preview, the health check and its settings,\n"
	"all-down, groups added (+group) or removed (-group), and targets added (+ADDR) or\n"
	"removed (-ADDR). A drain or undrain leaves the pool as it was: 'pool unchanged (...)'.\n"
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

/* One setting of the check (ct_checktext_foreach): what is checked on one line, how often and
 * what follows on the next. */
static void print_setting(int key, const char *value, void *arg)
{
	const char *sep = key == CT_CHECKKEY_CHECK      ? ""
	                  : key == CT_CHECKKEY_INTERVAL ? "\n  "
	                                                : "  ";
	if (value == NULL) {
		printf("%s%s", sep, ct_checktext_key_name(key));
	} else if (key == CT_CHECKKEY_BODY) {
		printf("%s%s \"%s\"", sep, ct_checktext_key_name(key), value);
	} else {
		printf("%s%s %s", sep, ct_checktext_key_name(key), value);
	}
}

/* The health check, then a line per target: state, drain, since, last check, error. */
static void print_targets(const ct_pool_t *pool, const ct_poolhealth_t *ph, int gw)
{
	char addr[CT_POOLTEXT_ADDRLEN], since[CT_POOLTEXT_TIMELEN], last[CT_POOLTEXT_TIMELEN];
	char latency[16];
	int aw = 6;
	fputs("  ", stdout);
	if (pool->check.kind == CT_CHECK_NONE) {
		printf("check none (targets count as up unless drained)  all-down %s",
		       ct_checktext_all_down(pool));
	} else {
		ct_checktext_foreach(pool, print_setting, NULL);
	}
	fputc('\n', stdout);
	for (int g = 0; g < pool->ngroups; g++) {
		for (int t = 0; t < pool->groups[g].ntargets; t++) {
			int n = (int)strlen(
			    ct_pooltext_addr_str(pool->type, pool->groups[g].targets[t], addr));
			aw = n > aw ? n : aw;
		}
	}
	if (ph->targets > 0) {
		printf("  %-*s  %-*s  %-7s  %-7s  %-20s  %-20s  %-6s  %9s  %s\n", aw, "TARGET", gw,
		       "GROUP", "STATE", "DRAINED", "SINCE", "LAST CHECK", "RESULT", "LATENCY",
		       "ERROR");
	}
	for (int g = 0; g < pool->ngroups; g++) {
		for (int t = 0; t < pool->groups[g].ntargets; t++) {
			const ct_health_t *h = &ph->target[g][t];
			bool checked = h->last_ms != 0;
			snprintf(latency, sizeof(latency), "%.1f ms", h->latency_us / 1000.0);
			printf("  %-*s  %-*s  %-7s  %-7s  %-20s  %-20s  %-6s  %9s  %s\n", aw,
			       ct_pooltext_addr_str(pool->type, pool->groups[g].targets[t], addr),
			       gw, pool->groups[g].name, ct_poolhealth_state_name(h->state),
			       h->drained ? "yes" : "no",
			       h->since_ms ? ct_pooltext_time(h->since_ms, since) : "-",
			       checked ? ct_pooltext_time(h->last_ms, last) : "-",
			       !checked     ? "-"
			       : h->last_ok ? "ok"
			                    : "failed",
			       checked ? latency : "-", h->error[0] ? h->error : "-");
		}
	}
	const char *mode = ct_poolhealth_mode_text(ph->mode);
	if (mode != NULL) {
		printf("  %s\n", mode);
	}
}

/* shift: the pool's active shift, or NULL. */
static void print_status(const MDB_val *key, const ct_pool_t *pool, const ct_poolhealth_t *ph,
                         const ct_rollout_t *shift, uint64_t now)
{
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	char label[CT_POOLTEXT_LABELLEN], name[CT_DNAME_STRLEN], addr[CT_POOLTEXT_ADDRLEN];
	char preview[CT_POOL_MAX_GROUPS][CT_DNAME_STRLEN + 2 * CT_POOL_NAMELEN + 2];
	char healthy[16];
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
	printf("  %-*s  %7s  %6s  %7s  %-*s  %s\n", gw, "GROUP", "WEIGHT", "SHARE", "HEALTHY", pw,
	       "PREVIEW", "TARGETS");
	for (int g = 0; g < pool->ngroups; g++) {
		const ct_pool_group_t *gr = &pool->groups[g];
		snprintf(healthy, sizeof(healthy), "%d/%u", ph->healthy[g], gr->ntargets);
		printf("  %-*s  %7u  %5.1f%%  %7s  %-*s ", gw, gr->name, gr->weight, share[g],
		       healthy, pw, preview[g]);
		for (int t = 0; t < gr->ntargets; t++) {
			printf(" %s", ct_pooltext_addr_str(type, gr->targets[t], addr));
		}
		printf("%s\n", gr->ntargets == 0 ? " (none: never answered)" : "");
	}
	if (zero) {
		printf("  every weight is 0: the groups with targets share the answers equally\n");
	}
	if (shift != NULL) {
		printf("  shift to %s: ", shift->shift.group);
		ct_rollouttext_progress(stdout, shift, now);
		fputc('\n', stdout);
	}
	print_targets(pool, ph, gw);
}

typedef struct {
	uint16_t type; /* 0: every type */
	json_t *pools; /* --json: the array to fill */
	ct_txn_t *txn;
	ct_poolhealth_t *ph; /* room for one pool's health */
	ct_rollout_t *shift; /* room for one pool's shift */
	uint64_t now;
	int count;
	int ret;
} status_t;

/* The pool's shift into s->shift; false when none is active (or on an error: s->ret). */
static bool active_shift(const MDB_val *key, status_t *s)
{
	int ret = ct_rollout_load(s->txn, key->mv_data, key->mv_size, s->shift);
	s->ret = ret == CT_ENOTFOUND ? CT_EOK : ret;
	return ret == CT_EOK && ct_shift_active(&s->shift->shift);
}

static bool status_one(const MDB_val *key, const ct_pool_t *pool, void *arg)
{
	status_t *s = arg;
	if (s->type != 0 && pool->type != s->type) {
		return true;
	}
	s->ret = ct_poolhealth_read(s->txn, key->mv_data, key->mv_size, pool, s->ph);
	if (s->ret != CT_EOK) {
		return false;
	}
	bool shifting = active_shift(key, s);
	if (s->ret == CT_EOK && s->pools != NULL) {
		json_t *o = ct_pooljson_status(key, pool, s->ph);
		if (o == NULL ||
		    json_object_set_new(o, "shift",
		                        shifting ? ct_rolloutjson_shift(s->shift, s->now)
		                                 : json_null()) != 0 ||
		    json_array_append_new(s->pools, o) != 0) {
			s->ret = CT_ENOMEM;
		}
	} else if (s->ret == CT_EOK) {
		printf("%s", s->count > 0 ? "\n" : "");
		print_status(key, pool, s->ph, shifting ? s->shift : NULL, s->now);
		s->count++;
	}
	ct_rollout_deinit(s->shift);
	return s->ret == CT_EOK;
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
	status_t s = { .type = cmd.type,
		       .txn = &txn,
		       .ph = malloc(sizeof(*s.ph)),
		       .shift = malloc(sizeof(*s.shift)),
		       .now = ct_rollout_now_ms() };
	json_t *doc = cmd.json ? ct_pooljson_doc("pools", &s.pools) : NULL;
	ct_poolset_t *set = NULL;
	bool ok = (!cmd.json || doc != NULL) && s.ph != NULL && s.shift != NULL;
	if (!ok) {
		ct_poolcmd_err(&cmd, "%s", ct_strerror(CT_ENOMEM));
	} else if (cmd.nops == 1) {
		/* the pools at NAME: read them all before printing anything */
		set = malloc(sizeof(*set));
		ok = set != NULL && ct_poolset_load(&cmd, &txn, owner, set) == CT_EOK;
		for (int i = 0; ok && i < set->n && s.ret == CT_EOK; i++) {
			MDB_val key = { set->klen[i], set->keys[i] };
			status_one(&key, &set->pools[i], &s);
		}
	} else {
		int ret = ct_poolcmd_each(&txn, NULL, status_one, &s);
		s.ret = s.ret != CT_EOK ? s.ret : ret;
	}
	if (ok && s.ret != CT_EOK) {
		ct_ctl_txn_err(&st, s.ret, "status");
		ok = false;
	}
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
	free(s.ph);
	free(s.shift);
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
		ct_pooltext_history_change(stdout, h, h->before_len > 0 ? &pools[0] : NULL,
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
