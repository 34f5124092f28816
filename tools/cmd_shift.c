/* SPDX-License-Identifier: MIT */
/* cutoverctl weight, cutover and rollback: moving traffic between a pool's groups. */
#include "ctl.h"
#include "poolcmd.h"
#include "cutover/poolhealth.h"
#include "cutover/pooltext.h"
#include "cutover/rollout.h"
#include "cutover/errcode.h"
#include "cutover/history.h"
#include "cutover/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char weight_usage[] =
	"Usage: cutoverctl [--db DIR] weight NAME GROUP=W [GROUP=W...] [--force]\n"
	"         [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Set the weights of groups of the pools at NAME (A and AAAA, or only --type's), in one\n"
	"transaction recorded in history; groups not named keep their weight. cutoverd answers\n"
	"by the new weights from its next query on.\n"
	"\n"
	"W is a whole number from 0 to 1000000. A group's share of the answers is its weight\n"
	"divided by the sum of the weights of the groups with targets: blue=90 green=10 sends\n"
	"10 % of the answers to green. A group with weight 0 gets no answers, except when every\n"
	"weight is 0: cutoverd then shares the answers equally among the groups with live\n"
	"targets (as Route 53 does), so all-zero weights never stop a name from answering.\n"
	"With policy sticky, raising a group's weight only moves clients into that group; with\n"
	"failover, the first group in order with weight above 0 and a live target answers.\n"
	"\n"
	"While a shift runs on a pool ('cutoverctl shift'), weight is refused: stop the shift\n"
	"first ('shift abort' or 'rollback'), or give --force, which aborts the shift in the\n"
	"same transaction.\n"
	"\n"
	"Options:\n"
	"  --force        set the weights even during a shift, aborting it\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --actor NAME   who is recorded in history (default: the login user)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Examples:\n"
	"  cutoverctl weight api.app.example blue=90 green=10     # a 10 % canary\n"
	"  cutoverctl weight api.app.example green=50 --type AAAA\n";

static const char cutover_usage[] =
	"Usage: cutoverctl [--db DIR] cutover NAME GROUP [--min-healthy N] [--force]\n"
	"         [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Send all traffic of the pools at NAME (A and AAAA, or only --type's) to GROUP in one\n"
	"step: GROUP gets weight 100 and every other group 0, in one transaction recorded in\n"
	"history. cutoverd answers with GROUP from its next query on; resolvers may keep an\n"
	"older answer for the pool's TTL. GROUP must have targets. 'cutoverctl rollback NAME'\n"
	"undoes it.\n"
	"\n"
	"The health gate: the cutover is refused, and nothing written, when GROUP has fewer\n"
	"healthy targets than --min-healthy (default 1) in any of the pools; the message lists\n"
	"the targets that are down (since when, and their last error) or drained. A target is\n"
	"healthy when it is neither down nor drained; one never checked counts as healthy, as\n"
	"it does for cutoverd. --force cuts over anyway and says what it overrode. A pool\n"
	"already on GROUP is left alone without a gate. 'weight' has no gate: cutoverd never\n"
	"answers with a group whose targets are all down or drained while another group has a\n"
	"healthy one, whatever the weights.\n"
	"\n"
	"While a shift runs on a pool ('cutoverctl shift'), cutover is refused unless --force,\n"
	"which then also aborts the shift, in the same transaction.\n"
	"\n"
	"Options:\n"
	"  --min-healthy N  GROUP needs at least N healthy targets, 1 to 64 (default 1)\n"
	"  --force          cut over even when GROUP fails the health gate or a shift runs\n"
	"                   (the shift is aborted)\n"
	"  --type A|AAAA    only the pool of this type\n"
	"  --actor NAME     who is recorded in history (default: the login user)\n"
	"  -h, --help       show this help\n"
	"\n"
	"Examples:\n"
	"  cutoverctl cutover api.app.example green\n"
	"  cutoverctl cutover api.app.example green --min-healthy 2\n";

static const char rollback_usage[] =
	"Usage: cutoverctl [--db DIR] rollback NAME [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Undo the last change of the pools at NAME: restore them as they were before it, from\n"
	"history. If that change created a pool, the rollback deletes it; if it deleted one,\n"
	"the rollback brings it back. Without --type the last change is the newest history\n"
	"entry of NAME's A and AAAA pools, and when one command changed both (say 'weight'\n"
	"without --type), both are restored. The rollback is itself a change recorded in\n"
	"history (action \"rollback\"), so a second rollback undoes the first. It fails, and\n"
	"writes nothing, when there is no change to undo or when the old pool would clash with\n"
	"records added since. 'cutoverctl history NAME' shows what a rollback restores. Drains\n"
	"are not changes of a pool: rollback passes over them ('cutoverctl undrain' ends one).\n"
	"\n"
	"During a shift (running or paused; 'cutoverctl shift'), rollback does not undo its\n"
	"last step: it stops the shift and restores the weights the pool had before the shift\n"
	"began, in one transaction recorded in history (action \"shift rollback: rolled back by\n"
	"ACTOR at step K of N\"). Only the pools at NAME with an active shift are touched.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --actor NAME   who is recorded in history (default: the login user)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl cutover api.app.example green && cutoverctl rollback api.app.example\n";
/* clang-format on */

/* Turns a pool (stored under key, read in txn) into its new version; false (with a message)
 * when it cannot. */
typedef bool (*shift_t)(const ct_poolcmd_t *cmd, ct_txn_t *txn, const MDB_val *key,
                        const uint8_t *owner, ct_pool_t *pool, void *arg);

/*
 * A manual change of the pool at key while a shift is active: refused (false, with a message)
 * unless force, which aborts the shift in txn (note: what the report says about it).
 */
static bool shift_guard(const ct_poolcmd_t *cmd, ct_txn_t *txn, const MDB_val *key,
                        const uint8_t *owner, uint16_t type, bool force, char *note, size_t len)
{
	char label[CT_POOLTEXT_LABELLEN];
	int found = ct_rollout_guard(txn, key->mv_data, key->mv_size, cmd->ops[0], force,
	                             cmd->actor, note, len);
	if (found == CT_ROLLOUT_REFUSED) {
		ct_poolcmd_err(cmd, "%s: %s", ct_pooltext_label(owner, type, label), note);
	}
	if (found != CT_ROLLOUT_ABORTED) {
		note[0] = '\0';
	}
	return found != CT_ROLLOUT_REFUSED;
}

/*
 * The body of weight and cutover: the pools at NAME (cmd->ops[0]), each changed by fn, written
 * in one transaction under action, then reported. A pool with an active shift is refused,
 * unless force: the shift is then aborted in the same transaction.
 */
static int shift(ct_poolcmd_t *cmd, const char *action, bool force, shift_t fn, void *arg)
{
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_open(cmd, owner, &st, &txn, true);
	if (status >= 0) {
		return status;
	}
	ct_poolset_t *set = malloc(sizeof(*set));
	ct_pool_t *after = malloc(2 * sizeof(*after));
	bool changed[2] = { false, false };
	char note[2][600];
	bool ok = set != NULL && after != NULL && ct_poolset_load(cmd, &txn, owner, set) == CT_EOK;
	for (int i = 0; ok && i < set->n; i++) {
		MDB_val key = { set->klen[i], set->keys[i] };
		after[i] = set->pools[i];
		ok = shift_guard(cmd, &txn, &key, owner, after[i].type, force, note[i],
		                 sizeof(note[i])) &&
		     fn(cmd, &txn, &key, owner, &after[i], arg) &&
		     ct_poolcmd_put(cmd, &txn, owner, &after[i], action, &changed[i]) == CT_EOK;
	}
	if (set == NULL || after == NULL) {
		ct_poolcmd_err(cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	status = ct_poolcmd_end(cmd, &st, &txn, ok, action);
	for (int i = 0; status == CT_CTL_OK && i < set->n; i++) {
		char label[CT_POOLTEXT_LABELLEN];
		if (note[i][0] != '\0') {
			printf("%s: %s\n", ct_pooltext_label(owner, after[i].type, label), note[i]);
		}
		ct_poolcmd_report(owner, after[i].type, action, &set->pools[i], &after[i],
		                  changed[i]);
	}
	free(after);
	free(set);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * weight */

enum { OPT_MIN_HEALTHY = 256, OPT_FORCE };

typedef struct {
	int n;
	char name[CT_POOL_MAX_GROUPS][CT_POOL_NAMELEN + 1];
	uint32_t weight[CT_POOL_MAX_GROUPS];
	bool force; /* --force */
} weights_t;

static int weight_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	((weights_t *)cmd->ctx)->force = true; /* --force, the only option of its own */
	return -1;
}

static int parse_weights(const ct_poolcmd_t *cmd, weights_t *w)
{
	for (int i = 1; i < cmd->nops; i++) {
		const char *arg = cmd->ops[i], *eq = strchr(arg, '=');
		if (eq == NULL || eq == arg || (size_t)(eq - arg) > CT_POOL_NAMELEN) {
			return ct_poolcmd_bad(cmd, "'%s': write GROUP=WEIGHT, e.g. green=10", arg);
		}
		if (w->n == CT_POOL_MAX_GROUPS) {
			return ct_poolcmd_bad(cmd, "'%s': a pool has at most %d groups", arg,
			                      CT_POOL_MAX_GROUPS);
		}
		snprintf(w->name[w->n], sizeof(w->name[0]), "%.*s", (int)(eq - arg), arg);
		for (int j = 0; j < w->n; j++) {
			if (strcasecmp(w->name[j], w->name[w->n]) == 0) {
				return ct_poolcmd_bad(cmd, "'%s': group '%s' is given twice", arg,
				                      w->name[j]);
			}
		}
		if (!ct_pooltext_uint(eq + 1, CT_POOL_MAX_WEIGHT, &w->weight[w->n])) {
			return ct_poolcmd_bad(
			    cmd, "'%s': the weight must be a whole number from 0 to %d", arg,
			    CT_POOL_MAX_WEIGHT);
		}
		w->n++;
	}
	return -1;
}

static bool set_weights(const ct_poolcmd_t *cmd, ct_txn_t *txn, const MDB_val *key,
                        const uint8_t *owner, ct_pool_t *pool, void *arg)
{
	const weights_t *w = arg;
	for (int i = 0; i < w->n; i++) {
		int g = ct_poolcmd_group(cmd, owner, pool, w->name[i]);
		if (g < 0) {
			return false;
		}
		pool->groups[g].weight = w->weight[i];
	}
	return true;
}

int ct_ctl_weight(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	weights_t w = { 0 };
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "weight",
		             .usage = weight_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .extra = opts,
		             .on_opt = weight_option,
		             .ctx = &w,
		             .min_ops = 2,
		             .max_ops = -1 };
	int status = ct_poolcmd_parse(&cmd, argc, argv);
	if (status < 0) {
		status = parse_weights(&cmd, &w);
	}
	return status >= 0 ? status : shift(&cmd, "weight", w.force, set_weights, &w);
}

/* ------------------------------------------------------------------------------------------
 * cutover */

typedef struct {
	const char *group;
	uint32_t min_healthy; /* --min-healthy; 1 by default */
	bool force;
} cutover_t;

static int cutover_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	cutover_t *co = cmd->ctx;
	if (c == OPT_FORCE) {
		co->force = true;
	} else if (!ct_pooltext_uint(arg, CT_POOL_MAX_TARGETS, &co->min_healthy) ||
	           co->min_healthy == 0) {
		return ct_poolcmd_bad(cmd, "--min-healthy '%s': a number of targets from 1 to %d",
		                      arg, CT_POOL_MAX_TARGETS);
	}
	return -1;
}

/*
 * The health gate of group g (see cutover_usage): true when it passes, or when --force
 * overrides it (said on stderr); false with the reason otherwise.
 */
static bool gate(const ct_poolcmd_t *cmd, ct_txn_t *txn, const MDB_val *key, const uint8_t *owner,
                 const ct_pool_t *pool, int g, const cutover_t *co)
{
	char label[CT_POOLTEXT_LABELLEN], *why = NULL;
	size_t len = 0;
	ct_poolhealth_t *ph = malloc(sizeof(*ph));
	int ret =
	    ph == NULL ? CT_ENOMEM : ct_poolhealth_read(txn, key->mv_data, key->mv_size, pool, ph);
	if (ret != CT_EOK) {
		ct_ctl_txn_err(txn->store, ret, cmd->name);
		free(ph);
		return false;
	}
	bool pass = ph->healthy[g] >= (int)co->min_healthy;
	FILE *m = pass ? NULL : open_memstream(&why, &len);
	if (m != NULL) {
		ct_poolhealth_why(m, pool, ph, g);
		fclose(m);
	}
	if (!pass) {
		ct_poolcmd_err(
		    cmd, "%sgroup '%s' of %s has %d healthy target%s of %u, %s %u%s%s%s",
		    co->force ? "--force: " : "", pool->groups[g].name,
		    ct_pooltext_label(owner, pool->type, label), ph->healthy[g],
		    ph->healthy[g] == 1 ? "" : "s", pool->groups[g].ntargets,
		    co->min_healthy > 1 ? "fewer than --min-healthy" : "it needs at least",
		    co->min_healthy, why != NULL && why[0] ? ": " : "", why != NULL ? why : "",
		    co->force ? "; cutting over anyway"
		              : "; repair or undrain its targets, or cut over with "
		                "--force");
	}
	free(why);
	free(ph);
	return pass || co->force;
}

static bool cut_over(const ct_poolcmd_t *cmd, ct_txn_t *txn, const MDB_val *key,
                     const uint8_t *owner, ct_pool_t *pool, void *arg)
{
	const cutover_t *co = arg;
	char label[CT_POOLTEXT_LABELLEN];
	int g = ct_poolcmd_group(cmd, owner, pool, co->group);
	if (g < 0) {
		return false;
	}
	if (pool->groups[g].ntargets == 0) {
		ct_poolcmd_err(cmd,
		               "group '%s' of %s has no targets, so it cannot take the traffic; "
		               "give it addresses with 'cutoverctl pool set' first",
		               pool->groups[g].name, ct_pooltext_label(owner, pool->type, label));
		return false;
	}
	bool moves = false;
	for (int i = 0; i < pool->ngroups; i++) {
		moves |= pool->groups[i].weight != (i == g ? 100u : 0u);
	}
	if (moves && !gate(cmd, txn, key, owner, pool, g, co)) {
		return false;
	}
	for (int i = 0; i < pool->ngroups; i++) {
		pool->groups[i].weight = i == g ? 100 : 0;
	}
	return true;
}

int ct_ctl_cutover(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "min-healthy", required_argument, NULL, OPT_MIN_HEALTHY },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	cutover_t co = { .min_healthy = 1 };
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "cutover",
		             .usage = cutover_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .extra = opts,
		             .on_opt = cutover_option,
		             .ctx = &co,
		             .min_ops = 2,
		             .max_ops = 2 };
	int status = ct_poolcmd_parse(&cmd, argc, argv);
	if (status >= 0) {
		return status;
	}
	co.group = cmd.ops[1];
	return shift(&cmd, "cutover", co.force, cut_over, &co);
}

/* ------------------------------------------------------------------------------------------
 * rollback */

/* One change to undo, copied out of history (the map may move once we write). */
typedef struct {
	uint16_t type;
	uint64_t seq, time_ms;
	char actor[256], action[256];
	uint8_t *before; /* heap; NULL when the change created the pool */
	size_t before_len;
} undo_t;

typedef struct {
	const uint8_t *keys[2]; /* the pools-db keys of NAME's pools we may undo */
	size_t klen[2];
	uint16_t types[2];
	int nkeys;
	undo_t undo[2];
	int n;
	int ret;
} rollback_t;

/*
 * History walk, newest first: take the newest entry of NAME's pools; then the next entry of
 * the other type too when it was written by the same command (consecutive sequence numbers,
 * same actor and action).
 */
static bool take_undo(const ct_history_t *h, void *arg)
{
	rollback_t *r = arg;
	int k = -1;
	for (int i = 0; i < r->nkeys; i++) {
		if (h->object_len == r->klen[i] && memcmp(h->object, r->keys[i], r->klen[i]) == 0) {
			k = i;
		}
	}
	if (k < 0) {
		return r->n == 0; /* after the first, only the very next entry may be its twin */
	}
	if (h->before_len == h->after_len && memcmp(h->before, h->after, h->after_len) == 0) {
		return r->n == 0; /* a drain or undrain: no change of the pool to undo */
	}
	if (r->n == 1) {
		const undo_t *first = &r->undo[0];
		if (r->types[k] == first->type || h->seq + 1 != first->seq ||
		    h->actor_len != strlen(first->actor) ||
		    memcmp(h->actor, first->actor, h->actor_len) != 0 ||
		    h->action_len != strlen(first->action) ||
		    memcmp(h->action, first->action, h->action_len) != 0) {
			return false;
		}
	}
	undo_t *u = &r->undo[r->n];
	u->type = r->types[k];
	u->seq = h->seq;
	u->time_ms = h->time_ms;
	snprintf(u->actor, sizeof(u->actor), "%.*s", (int)h->actor_len, h->actor);
	snprintf(u->action, sizeof(u->action), "%.*s", (int)h->action_len, h->action);
	u->before_len = h->before_len;
	u->before = h->before_len > 0 ? malloc(h->before_len) : NULL;
	if (h->before_len > 0 && u->before == NULL) {
		r->ret = CT_ENOMEM;
		return false;
	}
	if (u->before != NULL) {
		memcpy(u->before, h->before, h->before_len);
	}
	r->n++;
	return r->n < r->nkeys;
}

/* Restore one pool as undo says; restored: what it became (unless deleted). */
static bool undo_one(const ct_poolcmd_t *cmd, ct_txn_t *txn, const uint8_t *owner, const undo_t *u,
                     ct_pool_t *restored, bool *changed)
{
	char err[512], text[CT_DNAME_STRLEN];
	*changed = false;
	if (u->before == NULL) {
		int ret =
		    ct_pool_delete(txn, owner, u->type, cmd->actor, "rollback", err, sizeof(err));
		if (ret == CT_ENOTFOUND) {
			ct_poolcmd_err(cmd, "%s", err);
		} else if (ret != CT_EOK) {
			ct_ctl_txn_err(txn->store, ret, cmd->name);
		}
		*changed = ret == CT_EOK;
		return ret == CT_EOK;
	}
	if (ct_pool_decode(u->before, u->before_len, restored) != CT_EOK) {
		ct_poolcmd_err(cmd, "%s: the history entry %llu cannot be read",
		               ct_dname_to_str(owner, text), (unsigned long long)u->seq);
		return false;
	}
	return ct_poolcmd_put(cmd, txn, owner, restored, "rollback", changed) == CT_EOK;
}

/* True if a and b (the same pool before and after) differ in a weight. */
static bool weights_differ(const ct_pool_t *a, const ct_pool_t *b)
{
	for (int g = 0; g < a->ngroups && g < b->ngroups; g++) {
		if (a->groups[g].weight != b->groups[g].weight) {
			return true;
		}
	}
	return a->ngroups != b->ngroups;
}

/*
 * rollback during a shift: stop the active shifts of the pools at r's keys and restore the
 * weights from before them (ct_shift_rollback). Returns -1, having done nothing, when no
 * shift is active; else ends the command (ct_poolcmd_end) and returns its exit status.
 * pools: room for before and after of each type.
 */
static int rollback_shifts(const ct_poolcmd_t *cmd, ct_store_t *st, ct_txn_t *txn,
                           const uint8_t *owner, const rollback_t *r, ct_pool_t *pools)
{
	ct_shift_t *s = malloc(2 * sizeof(*s));
	bool active[2] = { false, false }, ok = s != NULL;
	int n = 0;
	for (int i = 0; ok && i < r->nkeys; i++) {
		active[i] = ct_shift_get(txn, r->keys[i], r->klen[i], &s[i]) == CT_EOK &&
		            ct_shift_active(&s[i]);
		n += active[i];
	}
	if (ok && n == 0) {
		free(s);
		return -1;
	}
	if (!ok) {
		ct_poolcmd_err(cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	uint64_t now = ct_rollout_now_ms();
	for (int i = 0; ok && i < r->nkeys; i++) {
		char reason[300], err[512] = "";
		if (!active[i]) {
			continue;
		}
		snprintf(reason, sizeof(reason), "rolled back by %s at step %u of %u", cmd->actor,
		         s[i].done, s[i].nsteps);
		int ret = ct_pool_get(txn, owner, r->types[i], &pools[2 * i]);
		if (ret == CT_ENOTFOUND) { /* deleted while cutoverd was not there to end it */
			const char *name = cmd->ops[0];
			ct_poolcmd_err(cmd,
			               "%s %s has no pool any more, only a shift to %s; "
			               "'cutoverctl shift abort %s' ends it",
			               name, ct_pooltext_type_name(r->types[i]), s[i].group, name);
			ok = false;
			break;
		}
		if (ret == CT_EOK) {
			ret = ct_shift_rollback(txn, r->keys[i], r->klen[i], now, cmd->actor,
			                        reason, err, sizeof(err));
		}
		if (ret == CT_EOK) {
			ret = ct_pool_get(txn, owner, r->types[i], &pools[2 * i + 1]);
		}
		if (ret != CT_EOK && err[0] != '\0') {
			ct_poolcmd_err(cmd, "%s", err);
		} else if (ret != CT_EOK) {
			ct_ctl_txn_err(st, ret, cmd->name);
		}
		ok = ret == CT_EOK;
	}
	int status = ct_poolcmd_end(cmd, st, txn, ok, "rollback: nothing written");
	for (int i = 0; status == CT_CTL_OK && i < r->nkeys; i++) {
		char verb[160];
		if (!active[i]) {
			continue;
		}
		snprintf(verb, sizeof(verb), "rolled back the shift to %s at step %u of %u",
		         s[i].group, s[i].done, s[i].nsteps);
		ct_poolcmd_report(owner, r->types[i], verb, &pools[2 * i], &pools[2 * i + 1],
		                  weights_differ(&pools[2 * i], &pools[2 * i + 1]));
	}
	free(s);
	return status;
}

int ct_ctl_rollback(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const uint16_t types[] = { CT_TYPE_A, CT_TYPE_AAAA };
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "rollback",
		             .usage = rollback_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .min_ops = 1,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN], keys[2][CT_RR_KEY_MAXLEN];
	char err[512], text[CT_DNAME_STRLEN], when[CT_POOLTEXT_TIMELEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, owner, &st, &txn, true);
	if (status >= 0) {
		return status;
	}
	rollback_t r = { .n = 0 };
	bool ok = true, changed[2] = { false, false }, had[2] = { false, false };
	ct_pool_t *pools = malloc(4 * sizeof(*pools)); /* before and after, per type */
	if (pools == NULL) {
		ct_poolcmd_err(&cmd, "%s", ct_strerror(CT_ENOMEM));
		ok = false;
	}
	for (int i = 0; ok && i < 2; i++) {
		if (cmd.type != 0 && cmd.type != types[i]) {
			continue;
		}
		int ret = ct_pool_key(&txn, owner, types[i], keys[r.nkeys], &r.klen[r.nkeys], err,
		                      sizeof(err));
		if (ret != CT_EOK) {
			ct_poolcmd_err(&cmd, "%s", ret == CT_ENOZONE ? err : ct_strerror(ret));
			ok = false;
			break;
		}
		r.keys[r.nkeys] = keys[r.nkeys];
		r.types[r.nkeys++] = types[i];
	}
	if (ok) { /* during a shift: back to the weights from before it */
		status = rollback_shifts(&cmd, &st, &txn, owner, &r, pools);
		if (status >= 0) {
			free(pools);
			return status;
		}
	}
	if (ok) {
		ct_history_foreach(&txn, NULL, 0, take_undo, &r);
		ok = r.ret == CT_EOK && txn.ret == CT_EOK;
		if (!ok) {
			ct_ctl_txn_err(&st, r.ret != CT_EOK ? r.ret : txn.ret, "rollback");
		} else if (r.n == 0) {
			ct_poolcmd_err(&cmd,
			               "%s: no change of its %s pool%s in history, nothing to "
			               "roll back",
			               ct_dname_to_str(owner, text),
			               cmd.type != 0 ? ct_pooltext_type_name(cmd.type)
			                             : "A or AAAA",
			               cmd.type != 0 ? "" : "s");
			ok = false;
		}
	}
	if (r.n == 2 && r.undo[0].type == CT_TYPE_AAAA) { /* report A first, as elsewhere */
		undo_t u = r.undo[0];
		r.undo[0] = r.undo[1];
		r.undo[1] = u;
	}
	for (int i = 0; ok && i < r.n; i++) {
		had[i] = ct_pool_get(&txn, owner, r.undo[i].type, &pools[2 * i]) == CT_EOK;
		ok = undo_one(&cmd, &txn, owner, &r.undo[i], &pools[2 * i + 1], &changed[i]);
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "rollback: nothing written");
	for (int i = 0; i < r.n; i++) {
		if (status == CT_CTL_OK) {
			char verb[600];
			snprintf(verb, sizeof(verb), "rolled back '%s' by %s at %s",
			         r.undo[i].action, r.undo[i].actor,
			         ct_pooltext_time(r.undo[i].time_ms, when));
			ct_poolcmd_report(
			    owner, r.undo[i].type, verb, had[i] ? &pools[2 * i] : NULL,
			    r.undo[i].before != NULL ? &pools[2 * i + 1] : NULL, changed[i]);
		}
		free(r.undo[i].before);
	}
	free(pools);
	return status;
}
