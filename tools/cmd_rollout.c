/* SPDX-License-Identifier: MIT */
/* cutoverctl shift: gradual traffic moves (canary, linear, explicit steps) that cutoverd runs,
 * and shift status, pause, resume and abort. */
#include "ctl.h"
#include "cutover/checktext.h"
#include "poolcmd.h"
#include "cutover/pooljson.h"
#include "cutover/pooltext.h"
#include "cutover/rollout.h"
#include "cutover/rolloutjson.h"
#include "rollouttext.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_WAIT_MS 100 /* cutoverd looks at the schedules this often */

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char shift_usage[] =
	"Usage: cutoverctl [--db DIR] shift NAME GROUP --canary PCT --after DUR [options]\n"
	"       cutoverctl [--db DIR] shift NAME GROUP --linear PCT --every DUR [options]\n"
	"       cutoverctl [--db DIR] shift NAME GROUP --steps PCT,PCT,... --every DUR [options]\n"
	"       cutoverctl [--db DIR] shift status [NAME] [--type A|AAAA] [--json]\n"
	"       cutoverctl [--db DIR] shift pause|resume|abort NAME [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Move the traffic of the pools at NAME (A and AAAA, or only --type's) to GROUP step by\n"
	"step. The first step is applied at once, in one transaction that also stores the\n"
	"schedule (one per pool); cutoverd applies the others when they are due, each in one\n"
	"transaction recorded in history (actor \"shift\", action \"shift step K of N: GROUP P%\")\n"
	"that bumps the zone's serial. A restarted cutoverd resumes at the right step: a step\n"
	"that fell due while it was down is applied once, and the next one interval later.\n"
	"\n"
	"  --canary PCT --after DUR     GROUP gets PCT % of the traffic, then 100 % after DUR\n"
	"  --linear PCT --every DUR     GROUP gets PCT %, then PCT more every DUR, up to 100 %\n"
	"  --steps P,P,... --every DUR  GROUP gets each percentage in turn, every DUR; they rise,\n"
	"                               1 to 100, and the last is where the shift ends\n"
	"\n"
	"Percentages are shares of the pool's traffic: GROUP gets P %, the other groups share\n"
	"the rest in proportion to their weights before the shift (equally if those were all\n"
	"0), rounded to whole points so that the weights add up to 100. With two groups the\n"
	"other gets 100 - P. DUR is a number and a unit, ms, s or m: 500ms, 30s, 1.5m (at\n"
	"least 100ms). Failover pools cannot be shifted ('cutover' moves them).\n"
	"\n"
	"The gate: GROUP needs --min-healthy targets that are neither down nor drained, to start\n"
	"and all along the shift (a target never checked counts as healthy: give the pool a\n"
	"health check with 'pool set --check'). When it falls short, with --rollback-on\n"
	"unhealthy cutoverd restores the weights from before the shift in one transaction, ends\n"
	"the shift with the reason 'rolled back: <target> down: <error>' and logs it; with none\n"
	"the shift holds, and goes on when GROUP is healthy again. A paused shift is watched too.\n"
	"\n"
	"One shift per pool at a time. While one is active, 'weight' and 'cutover' are refused\n"
	"unless given --force, which aborts the shift; 'rollback NAME' stops it and restores the\n"
	"weights from before it.\n"
	"\n"
	"Options:\n"
	"  --min-healthy N           GROUP's healthy targets needed, 1 to 64 (default 1)\n"
	"  --rollback-on unhealthy|none  what a failing gate does (default unhealthy)\n"
	"  --type A|AAAA             only the pool of this type\n"
	"  --actor NAME              who is recorded in history (default: the login user)\n"
	"  -h, --help                show this help\n"
	"\n"
	"Commands (each has --help):\n"
	"  shift status [NAME]       the shifts: plan, step, next step, gate, state, steps applied\n"
	"  shift pause NAME          hold the shift where it is; the wait left is kept\n"
	"  shift resume NAME         go on, with the wait that was left\n"
	"  shift abort NAME          end the shift where it is (the weights stay)\n"
	"\n"
	"Examples:\n"
	"  cutoverctl shift api.app.example green --canary 10 --after 5m\n"
	"  cutoverctl shift api.app.example green --linear 10 --every 1m --min-healthy 2\n"
	"  cutoverctl shift api.app.example green --steps 5,25,50,100 --every 30s\n"
	"  cutoverctl shift status api.app.example\n";

static const char status_usage[] =
	"Usage: cutoverctl [--db DIR] shift status [NAME] [--type A|AAAA] [--json]\n"
	"\n"
	"Show the shift of the pools at NAME (A and AAAA, or only --type's), or of every pool\n"
	"that had one: the last shift of each pool, running or ended. For each: its plan; its\n"
	"state (running, paused, done, aborted, rolled back) with the step it is at, the next\n"
	"step and when it is due, or why it ended; the pool's weights now; the gate (GROUP's\n"
	"healthy targets now, and the first that is not); who started it, when; and the steps\n"
	"applied so far, from history, with their times, actors and weights.\n"
	"\n"
	"--json prints {\"shifts\": [SHIFT...]}, each SHIFT with name, zone, type, group, kind,\n"
	"state (running, paused, done, aborted, rolled_back), step (steps applied), nsteps,\n"
	"percent, steps, every_ms, next_time, next_ms, next_in_ms (null unless running),\n"
	"paused_left_ms (null unless paused), min_healthy, healthy, rollback_on, actor,\n"
	"started, started_ms, ended, ended_ms, reason (null while active), weights ({GROUP: W},\n"
	"the pool now) and history: [{seq, time, time_ms, actor, action, step, percent,\n"
	"summary}], oldest first.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only pools of this type\n"
	"  --json         JSON instead of text\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl shift status api.app.example --json\n";

static const char pause_usage[] =
	"Usage: cutoverctl [--db DIR] shift pause NAME [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Hold the running shift of the pools at NAME (A and AAAA, or only --type's) at its step:\n"
	"cutoverd applies no step until 'shift resume', which waits what was left of the wait.\n"
	"The weights stay, and so does the shift: a new one cannot start, 'weight' and\n"
	"'cutover' are refused without --force. The gate watches a paused shift too.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --actor NAME   accepted for symmetry; a pause changes no pool, so no history entry\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl shift pause api.app.example\n";

static const char resume_usage[] =
	"Usage: cutoverctl [--db DIR] shift resume NAME [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Go on with the paused shift of the pools at NAME (A and AAAA, or only --type's): the\n"
	"next step falls due after what was left of its wait when the shift was paused.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --actor NAME   accepted for symmetry; a resume changes no pool, so no history entry\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl shift resume api.app.example\n";

static const char abort_usage[] =
	"Usage: cutoverctl [--db DIR] shift abort NAME [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"End the shift (running or paused) of the pools at NAME (A and AAAA, or only --type's)\n"
	"where it is: the weights of its last step stay, no more step is applied, and the\n"
	"shift ends with the reason 'aborted by ACTOR at step K of N'. To go back to the\n"
	"weights from before the shift instead, use 'cutoverctl rollback NAME'.\n"
	"\n"
	"Options:\n"
	"  --type A|AAAA  only the pool of this type\n"
	"  --actor NAME   who is named in the reason (default: the login user)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl shift abort api.app.example\n";
/* clang-format on */

/* ------------------------------------------------------------------------------------------
 * shift NAME GROUP ... */

enum { OPT_CANARY = 256, OPT_LINEAR, OPT_STEPS, OPT_AFTER, OPT_EVERY, OPT_MIN, OPT_ROLLBACK_ON };

typedef struct {
	ct_shift_t plan;  /* kind, steps, every_ms, min_healthy, rollback_on; group and actor */
	const char *kind; /* the option that gave the kind ("--canary"), for messages */
	const char *wait; /* "--after" or "--every", when given */
} start_t;

/* A percentage "10" or "10%" from min to max. */
static bool parse_pct(const char *text, uint32_t min, uint32_t max, uint8_t *out)
{
	char digits[8];
	size_t n = strlen(text);
	uint32_t v;
	if (n > 0 && text[n - 1] == '%') {
		n--;
	}
	if (n == 0 || n >= sizeof(digits)) {
		return false;
	}
	memcpy(digits, text, n);
	digits[n] = '\0';
	if (!ct_pooltext_uint(digits, max, &v) || v < min) {
		return false;
	}
	*out = (uint8_t)v;
	return true;
}

/* "5,25,50,100": rising percentages, 1 to 100. */
static int parse_steps(ct_poolcmd_t *cmd, const char *text, ct_shift_t *s)
{
	const char *p = text;
	s->nsteps = 0;
	while (true) {
		char one[8];
		size_t n = strcspn(p, ",");
		if (s->nsteps == CT_SHIFT_MAX_STEPS) {
			return ct_poolcmd_bad(cmd, "--steps '%s': at most %d steps", text,
			                      CT_SHIFT_MAX_STEPS);
		}
		if (n == 0 || n >= sizeof(one)) {
			return ct_poolcmd_bad(cmd,
			                      "--steps '%s': write percentages with commas, e.g. "
			                      "5,25,50,100",
			                      text);
		}
		memcpy(one, p, n);
		one[n] = '\0';
		uint8_t *step = &s->steps[s->nsteps];
		if (!parse_pct(one, 1, 100, step)) {
			return ct_poolcmd_bad(
			    cmd, "--steps '%s': '%s' is not a percentage from 1 to 100", text, one);
		}
		if (s->nsteps > 0 && *step <= step[-1]) {
			return ct_poolcmd_bad(cmd,
			                      "--steps '%s': each step must be above the one "
			                      "before (%u then %u)",
			                      text, step[-1], *step);
		}
		s->nsteps++;
		if (p[n] == '\0') {
			return -1;
		}
		p += n + 1;
	}
}

static int start_kind(ct_poolcmd_t *cmd, start_t *a, uint8_t kind, const char *opt)
{
	if (a->kind != NULL) {
		return ct_poolcmd_bad(cmd, "%s and %s: give one of --canary, --linear and --steps",
		                      a->kind, opt);
	}
	a->kind = opt;
	a->plan.kind = kind;
	return -1;
}

static int start_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	start_t *a = cmd->ctx;
	ct_shift_t *s = &a->plan;
	char err[256];
	uint32_t v;
	int status = -1;
	switch (c) {
	case OPT_CANARY:
		status = start_kind(cmd, a, CT_SHIFT_CANARY, "--canary");
		if (status < 0 && !parse_pct(arg, 1, 99, &s->steps[0])) {
			return ct_poolcmd_bad(cmd,
			                      "--canary '%s': a percentage from 1 to 99 (the "
			                      "canary's share; 100 %% follows after --after)",
			                      arg);
		}
		s->steps[1] = 100;
		s->nsteps = 2;
		break;
	case OPT_LINEAR:
		status = start_kind(cmd, a, CT_SHIFT_LINEAR, "--linear");
		if (status < 0 && !parse_pct(arg, 1, 100, &s->steps[0])) {
			return ct_poolcmd_bad(cmd,
			                      "--linear '%s': a percentage from 1 to 100, added "
			                      "at every step",
			                      arg);
		}
		for (s->nsteps = 1; status < 0 && s->steps[s->nsteps - 1] < 100; s->nsteps++) {
			unsigned next = s->steps[s->nsteps - 1] + (unsigned)s->steps[0];
			s->steps[s->nsteps] = (uint8_t)(next < 100 ? next : 100);
		}
		break;
	case OPT_STEPS:
		status = start_kind(cmd, a, CT_SHIFT_STEPS, "--steps");
		if (status < 0) {
			status = parse_steps(cmd, arg, s);
		}
		break;
	case OPT_AFTER:
	case OPT_EVERY:
		if (!ct_checktext_duration(arg, &s->every_ms, err, sizeof(err))) {
			return ct_poolcmd_bad(cmd, "%s %s", c == OPT_AFTER ? "--after" : "--every",
			                      err);
		}
		if (s->every_ms < MIN_WAIT_MS) {
			return ct_poolcmd_bad(cmd,
			                      "%s '%s': at least %ums (cutoverd looks at the "
			                      "schedules every %ums)",
			                      c == OPT_AFTER ? "--after" : "--every", arg,
			                      MIN_WAIT_MS, MIN_WAIT_MS);
		}
		a->wait = c == OPT_AFTER ? "--after" : "--every";
		break;
	case OPT_MIN:
		if (!ct_pooltext_uint(arg, CT_POOL_MAX_TARGETS, &v) || v == 0) {
			return ct_poolcmd_bad(cmd,
			                      "--min-healthy '%s': a number of targets from 1 "
			                      "to %d",
			                      arg, CT_POOL_MAX_TARGETS);
		}
		s->min_healthy = (uint16_t)v;
		break;
	case OPT_ROLLBACK_ON:
		if (strcmp(arg, "unhealthy") != 0 && strcmp(arg, "none") != 0) {
			return ct_poolcmd_bad(cmd,
			                      "--rollback-on '%s': unhealthy (roll back when the "
			                      "gate fails) or none (hold)",
			                      arg);
		}
		s->rollback_on =
		    strcmp(arg, "none") == 0 ? CT_ROLLBACK_ON_NONE : CT_ROLLBACK_ON_UNHEALTHY;
		break;
	default:
		break;
	}
	return status;
}

/* After the options: the kind and its wait agree, the group is a group name. */
static int start_check(ct_poolcmd_t *cmd, start_t *a)
{
	const char *want = a->plan.kind == CT_SHIFT_CANARY ? "--after" : "--every";
	if (a->kind == NULL) {
		return ct_poolcmd_bad(cmd, "say how to shift: --canary PCT --after DUR, --linear "
		                           "PCT --every DUR or --steps P,P,... --every DUR");
	}
	if (a->wait == NULL) {
		return ct_poolcmd_bad(cmd, "%s needs %s DUR: how long to wait %s", a->kind, want,
		                      a->plan.kind == CT_SHIFT_CANARY ? "before 100 %"
		                                                      : "between steps");
	}
	if (strcmp(a->wait, want) != 0) {
		return ct_poolcmd_bad(cmd, "%s takes %s, not %s", a->kind, want, a->wait);
	}
	if (!ct_pool_label_ok(cmd->ops[1], false)) {
		return ct_poolcmd_bad(cmd,
		                      "'%s' is not a group name (1 to %d letters, digits, '-' "
		                      "or '_')",
		                      cmd->ops[1], CT_POOL_NAMELEN);
	}
	snprintf(a->plan.group, sizeof(a->plan.group), "%s", cmd->ops[1]);
	snprintf(a->plan.actor, sizeof(a->plan.actor), "%s", cmd->actor);
	return -1;
}

/* Whether the pool at set index i may be shifted as a says; a message when not. */
static bool can_start(const ct_poolcmd_t *cmd, ct_txn_t *txn, const ct_poolset_t *set, int i,
                      const start_t *a, ct_rollout_t *cur)
{
	const ct_pool_t *pool = &set->pools[i];
	char label[CT_POOLTEXT_LABELLEN], *line = NULL;
	size_t len = 0;
	ct_pooltext_label(set->owner, pool->type, label);
	if (pool->policy == CT_POLICY_FAILOVER) {
		ct_poolcmd_err(cmd,
		               "%s is a failover pool: one group takes all its traffic, so it "
		               "cannot move gradually; 'cutoverctl cutover %s %s' moves it",
		               label, cmd->ops[0], a->plan.group);
		return false;
	}
	if (ct_poolcmd_group(cmd, set->owner, pool, a->plan.group) < 0) {
		return false;
	}
	int ret = ct_rollout_load(txn, set->keys[i], set->klen[i], cur);
	bool active = ret == CT_EOK && ct_shift_active(&cur->shift);
	FILE *m = active ? open_memstream(&line, &len) : NULL;
	if (m != NULL) {
		ct_rollouttext_progress(m, cur, ct_rollout_now_ms());
		fclose(m);
	}
	if (active) {
		ct_poolcmd_err(cmd,
		               "%s already has a shift to %s: %s; end it first with "
		               "'cutoverctl shift abort %s' (the weights stay) or 'cutoverctl "
		               "rollback %s' (the weights from before it)",
		               label, cur->shift.group, line != NULL ? line : "?", cmd->ops[0],
		               cmd->ops[0]);
	} else if (ret != CT_EOK && ret != CT_ENOTFOUND) {
		ct_ctl_txn_err(txn->store, ret, label);
	}
	free(line);
	ct_rollout_deinit(cur);
	return !active && (ret == CT_EOK || ret == CT_ENOTFOUND);
}

/* The report of a started shift: its first step, and the next. */
static void report_start(const ct_poolset_t *set, int i, const ct_pool_t *after,
                         const ct_rollout_t *r, uint64_t now)
{
	char label[CT_POOLTEXT_LABELLEN], plan[600];
	printf("%s: shift to %s started, %s: ", ct_pooltext_label(set->owner, after->type, label),
	       r->shift.group, ct_rollouttext_plan(&r->shift, plan, sizeof(plan)));
	ct_pooltext_change(stdout, &set->pools[i], after);
	fputs("; ", stdout);
	ct_rollouttext_progress(stdout, r, now);
	fputc('\n', stdout);
	if (after->check.kind == CT_CHECK_NONE &&
	    r->shift.rollback_on == CT_ROLLBACK_ON_UNHEALTHY && ct_shift_active(&r->shift)) {
		printf("  note: the pool has no health check, so only drained targets can fail the "
		       "gate (pool set --check adds one)\n");
	}
}

static int shift_start(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "canary", required_argument, NULL, OPT_CANARY },
		{ "linear", required_argument, NULL, OPT_LINEAR },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "after", required_argument, NULL, OPT_AFTER },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "min-healthy", required_argument, NULL, OPT_MIN },
		{ "rollback-on", required_argument, NULL, OPT_ROLLBACK_ON },
		{ NULL, 0, NULL, 0 },
	};
	start_t *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		ct_ctl_err("shift: %s", ct_strerror(CT_ENOMEM));
		return CT_CTL_FAIL;
	}
	a->plan.min_healthy = 1;
	a->plan.rollback_on = CT_ROLLBACK_ON_UNHEALTHY;
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "shift",
		             .usage = shift_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .extra = opts,
		             .on_opt = start_option,
		             .ctx = a,
		             .min_ops = 2,
		             .max_ops = 2 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_parse(&cmd, argc, argv);
	if (status < 0) {
		status = start_check(&cmd, a);
	}
	if (status < 0) {
		status = ct_poolcmd_open(&cmd, owner, &st, &txn, true);
	}
	if (status >= 0) {
		free(a);
		return status;
	}
	ct_poolset_t *set = malloc(sizeof(*set));
	ct_pool_t *after = malloc(2 * sizeof(*after));
	ct_rollout_t *r = malloc(2 * sizeof(*r));
	uint64_t now = ct_rollout_now_ms();
	bool ok = set != NULL && after != NULL && r != NULL;
	if (!ok) {
		ct_poolcmd_err(&cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	ok = ok && ct_poolset_load(&cmd, &txn, owner, set) == CT_EOK;
	for (int i = 0; ok && i < set->n; i++) {
		ok = can_start(&cmd, &txn, set, i, a, &r[i]);
	}
	for (int i = 0; ok && i < set->n; i++) {
		char err[512] = "", label[CT_POOLTEXT_LABELLEN];
		r[i].shift = a->plan;
		int ret = ct_shift_start(&txn, owner, set->pools[i].type, &r[i].shift, now, err,
		                         sizeof(err));
		if (ret == CT_EOK) {
			ret = ct_pool_get(&txn, owner, set->pools[i].type, &after[i]);
		}
		if (ret != CT_EOK && err[0] != '\0') {
			ct_poolcmd_err(&cmd, "%s: %s",
			               ct_pooltext_label(owner, set->pools[i].type, label), err);
		} else if (ret != CT_EOK) {
			ct_ctl_txn_err(&st, ret, cmd.name);
		}
		ok = ret == CT_EOK;
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "shift: nothing written");
	for (int i = 0; status == CT_CTL_OK && i < set->n; i++) {
		r[i].nlog = 0;
		report_start(set, i, &after[i], &r[i], now);
	}
	free(r);
	free(after);
	free(set);
	free(a);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * The shifts at a name (status, pause, resume, abort). */

/* The pools-db keys of NAME's A and AAAA pools (or only cmd->type's), whether or not the
 * pools exist now; CT_ENOZONE with a message when NAME is in no zone. */
typedef struct {
	int n;
	uint8_t keys[2][CT_RR_KEY_MAXLEN];
	size_t klen[2];
} keys_t;

static int name_keys(const ct_poolcmd_t *cmd, ct_txn_t *txn, const uint8_t *owner, keys_t *k)
{
	static const uint16_t types[] = { CT_TYPE_A, CT_TYPE_AAAA };
	char err[512];
	k->n = 0;
	for (int i = 0; i < 2; i++) {
		if (cmd->type != 0 && cmd->type != types[i]) {
			continue;
		}
		int ret = ct_pool_key(txn, owner, types[i], k->keys[k->n], &k->klen[k->n], err,
		                      sizeof(err));
		if (ret == CT_ENOZONE) {
			ct_poolcmd_err(cmd, "%s", err);
			return ret;
		}
		if (ret != CT_EOK) {
			ct_ctl_txn_err(txn->store, ret, cmd->name);
			return ret;
		}
		k->n++;
	}
	return CT_EOK;
}

/* "api.app.example. (A or AAAA)", "api.app.example. A" */
static const char *name_label(const ct_poolcmd_t *cmd, const uint8_t *owner, char *out)
{
	if (cmd->type != 0) {
		return ct_pooltext_label(owner, cmd->type, out);
	}
	char text[CT_DNAME_STRLEN];
	snprintf(out, CT_POOLTEXT_LABELLEN, "%s (A or AAAA)", ct_dname_to_str(owner, text));
	return out;
}

/* ------------------------------------------------------------------------------------------
 * shift pause|resume|abort NAME */

enum { ACT_PAUSE, ACT_RESUME, ACT_ABORT };

static const struct {
	const char *name, *usage, *done;
} acts[] = {
	{ "shift pause", pause_usage, "paused" },
	{ "shift resume", resume_usage, "resumed" },
	{ "shift abort", abort_usage, "aborted" },
};

/* Whether action a applies to a shift in this state. */
static bool acts_on(int a, uint8_t state)
{
	return a == ACT_PAUSE    ? state == CT_SHIFT_RUNNING
	       : a == ACT_RESUME ? state == CT_SHIFT_PAUSED
	                         : state == CT_SHIFT_RUNNING || state == CT_SHIFT_PAUSED;
}

/* Nothing to act on: say why, from the shifts found (n of them in r). */
static void explain_none(const ct_poolcmd_t *cmd, int a, const uint8_t *owner, ct_rollout_t *r,
                         int n)
{
	char label[CT_POOLTEXT_LABELLEN], *line = NULL;
	size_t len = 0;
	int i = n - 1; /* an active shift if there is one, else the last found */
	for (int j = 0; j < n; j++) {
		i = ct_shift_active(&r[j].shift) ? j : i;
	}
	FILE *m = n > 0 ? open_memstream(&line, &len) : NULL;
	if (m != NULL) {
		ct_rollouttext_progress(m, &r[i], ct_rollout_now_ms());
		fclose(m);
	}
	if (n > 0 && ct_shift_active(&r[i].shift)) {
		ct_poolcmd_err(cmd, "the shift of %s to %s is already %s: %s%s%s",
		               ct_pooltext_label(r[i].owner, r[i].type, label), r[i].shift.group,
		               a == ACT_PAUSE ? "paused" : "running", line != NULL ? line : "?",
		               a == ACT_PAUSE ? "; 'cutoverctl shift resume' goes on with it" : "",
		               a == ACT_RESUME ? "; 'cutoverctl shift pause' holds it" : "");
	} else if (n > 0) {
		ct_poolcmd_err(cmd, "%s has no active shift; the last one, to %s, ended: %s",
		               name_label(cmd, owner, label), r[i].shift.group,
		               line != NULL ? line : "?");
	} else {
		name_label(cmd, owner, label);
		ct_poolcmd_err(cmd, "%s has no shift; 'cutoverctl shift status' lists the shifts",
		               label);
	}
	free(line);
}

static int shift_act(const ct_ctl_t *ctl, int a, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = acts[a].name,
		             .usage = acts[a].usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .min_ops = 1,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, owner, &st, &txn, true);
	if (status >= 0) {
		return status;
	}
	keys_t *k = malloc(sizeof(*k));
	ct_rollout_t *r = malloc(2 * sizeof(*r));
	bool acted[2] = { false, false };
	int n = 0, nacted = 0;
	uint64_t now = ct_rollout_now_ms();
	bool ok = k != NULL && r != NULL;
	if (!ok) {
		ct_poolcmd_err(&cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	ok = ok && name_keys(&cmd, &txn, owner, k) == CT_EOK;
	for (int i = 0; ok && i < k->n; i++) {
		int ret = ct_rollout_load(&txn, k->keys[i], k->klen[i], &r[n]);
		if (ret == CT_ENOTFOUND) {
			ct_rollout_deinit(&r[n]);
			continue;
		}
		if (ret != CT_EOK) {
			ct_ctl_txn_err(&st, ret, cmd.name);
			ok = false;
			n++;
			break;
		}
		acted[n] = acts_on(a, r[n].shift.state);
		nacted += acted[n];
		n++;
	}
	if (ok && nacted == 0) {
		explain_none(&cmd, a, owner, r, n);
		ok = false;
	}
	for (int i = 0; ok && i < n; i++) {
		char err[512] = "";
		int ret = CT_EOK;
		if (!acted[i]) {
			continue;
		}
		ct_rollout_deinit(&r[i]);
		if (a == ACT_PAUSE) {
			ret = ct_shift_pause(&txn, r[i].key, r[i].klen, now, err, sizeof(err));
		} else if (a == ACT_RESUME) {
			ret = ct_shift_resume(&txn, r[i].key, r[i].klen, now, err, sizeof(err));
		} else {
			ret = ct_shift_abort(&txn, r[i].key, r[i].klen, now, cmd.actor, err,
			                     sizeof(err));
		}
		if (ret == CT_EOK) {
			ret = ct_rollout_load(&txn, r[i].key, r[i].klen, &r[i]);
		}
		if (ret != CT_EOK && err[0] != '\0') {
			ct_poolcmd_err(&cmd, "%s", err);
		} else if (ret != CT_EOK) {
			ct_ctl_txn_err(&st, ret, cmd.name);
		}
		ok = ret == CT_EOK;
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, "nothing written");
	for (int i = 0; i < n; i++) {
		char label[CT_POOLTEXT_LABELLEN];
		if (status == CT_CTL_OK && acted[i]) {
			printf(
			    "%s: shift to %s %s: ", ct_pooltext_label(r[i].owner, r[i].type, label),
			    r[i].shift.group, acts[a].done);
			ct_rollouttext_progress(stdout, &r[i], now);
			if (a == ACT_ABORT && r[i].has_pool) {
				fputs("; the weights stay ", stdout);
				ct_pooltext_weights(stdout, &r[i].pool);
			}
			fputc('\n', stdout);
		}
		ct_rollout_deinit(&r[i]);
	}
	free(r);
	free(k);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * shift status [NAME] */

typedef struct {
	FILE *text;    /* the blocks, printed once all is read */
	json_t *array; /* --json: the shifts */
	int count;
	int ret;
} status_t;

/* Load the shift at key and add it to the output; false to stop (st->ret says why). */
static bool status_one(ct_txn_t *txn, const uint8_t *key, size_t klen, ct_rollout_t *r,
                       status_t *st, uint64_t now)
{
	int ret = ct_rollout_load(txn, key, klen, r);
	if (ret == CT_EOK && st->array != NULL) {
		json_t *o = ct_rolloutjson_shift(r, now);
		ret = o != NULL && json_array_append_new(st->array, o) == 0 ? CT_EOK : CT_ENOMEM;
	} else if (ret == CT_EOK) {
		fputs(st->count > 0 ? "\n" : "", st->text);
		ct_rollouttext_print(st->text, r, now);
	}
	ct_rollout_deinit(r);
	st->count += ret == CT_EOK;
	st->ret = ret == CT_ENOTFOUND ? CT_EOK : ret;
	return st->ret == CT_EOK;
}

/* Every schedule's key (copied out: loading a shift moves the transaction's cursors). */
static int all_keys(ct_txn_t *txn, uint16_t type, uint8_t **keys, size_t **lens, int *n)
{
	MDB_val k, v;
	int cap = 0;
	*n = 0;
	for (bool f = ct_txn_seek(txn, txn->store->schedules, NULL, 0, &k, &v); f;
	     f = ct_txn_next(txn, txn->store->schedules, &k, &v)) {
		uint8_t owner[CT_DNAME_MAXLEN];
		uint16_t t;
		if (k.mv_size > CT_RR_KEY_MAXLEN || ct_pool_key_owner(&k, owner, &t) != CT_EOK) {
			return CT_EDBCORRUPT;
		}
		if (type != 0 && t != type) {
			continue;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			uint8_t *nk = realloc(*keys, (size_t)cap * CT_RR_KEY_MAXLEN);
			size_t *nl =
			    nk != NULL ? realloc(*lens, (size_t)cap * sizeof(size_t)) : NULL;
			if (nk != NULL) {
				*keys = nk;
			}
			if (nl == NULL) {
				return CT_ENOMEM;
			}
			*lens = nl;
		}
		memcpy(*keys + (size_t)*n * CT_RR_KEY_MAXLEN, k.mv_data, k.mv_size);
		(*lens)[(*n)++] = k.mv_size;
	}
	return txn->ret;
}

static int shift_status(const ct_ctl_t *ctl, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "shift status",
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
	char *text = NULL;
	size_t tlen = 0;
	status_t s = { .ret = CT_EOK };
	json_t *doc = cmd.json ? ct_pooljson_doc("shifts", &s.array) : NULL;
	s.text = cmd.json ? NULL : open_memstream(&text, &tlen);
	ct_rollout_t *r = malloc(sizeof(*r));
	uint8_t *keys = NULL;
	size_t *lens = NULL;
	int n = 0;
	uint64_t now = ct_rollout_now_ms();
	bool ok = r != NULL && (cmd.json ? doc != NULL : s.text != NULL);
	if (!ok) {
		ct_poolcmd_err(&cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	if (ok && cmd.nops == 1) {
		keys_t *k = malloc(sizeof(*k));
		ok = k != NULL && name_keys(&cmd, &txn, owner, k) == CT_EOK;
		for (int i = 0; ok && s.ret == CT_EOK && i < k->n; i++) {
			status_one(&txn, k->keys[i], k->klen[i], r, &s, now);
		}
		free(k);
	} else if (ok) {
		s.ret = all_keys(&txn, cmd.type, &keys, &lens, &n);
		for (int i = 0; s.ret == CT_EOK && i < n; i++) {
			status_one(&txn, keys + (size_t)i * CT_RR_KEY_MAXLEN, lens[i], r, &s, now);
		}
	}
	if (ok && s.ret != CT_EOK) {
		ct_ctl_txn_err(&st, s.ret, cmd.name);
		ok = false;
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok, cmd.name);
	if (s.text != NULL) {
		fclose(s.text);
	}
	if (status == CT_CTL_OK && cmd.json) {
		status = ct_pooljson_print(doc);
		doc = NULL;
	} else if (status == CT_CTL_OK && s.count == 0) {
		char label[CT_POOLTEXT_LABELLEN];
		ct_ctl_err("no shift%s%s; start one with 'cutoverctl shift NAME GROUP --linear 10 "
		           "--every 1m'",
		           cmd.nops == 1 ? " recorded for " : "s yet",
		           cmd.nops == 1 ? name_label(&cmd, owner, label) : "");
	} else if (status == CT_CTL_OK) {
		fputs(text, stdout);
	}
	json_decref(doc);
	free(text);
	free(keys);
	free(lens);
	free(r);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * shift: the family */

int ct_ctl_shift(const ct_ctl_t *ctl, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "status") == 0) {
		return shift_status(ctl, argc - 1, argv + 1);
	}
	for (int a = ACT_PAUSE; argc > 1 && a <= ACT_ABORT; a++) {
		if (strcmp(argv[1], acts[a].name + 6) == 0) {
			return shift_act(ctl, a, argc - 1, argv + 1);
		}
	}
	return shift_start(ctl, argc, argv);
}
