/* SPDX-License-Identifier: MIT */
/* Unit tests: shifts (server/shift.c) on a temp store: the schedules codec, how the other groups
 * are scaled, start refusals, pause/resume, one step per tick, overdue steps, the health gate,
 * rollback-on none, and shifts ended by a deleted pool or group. */
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/history.h"
#include "cutover/log.h"
#include "cutover/shift.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"
#include "tap.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1800000000000ull /* "now" at the start of each schedule, Unix ms */

static char tmp[64];
static ct_store_t st;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void wire(const char *text, uint8_t *out)
{
	if (ct_zonefile_parse_name(text, out) < 0) {
		out[0] = 0;
	}
}

static void quiet(void *ctx, int prio, const char *msg)
{
}

static int import_zone(void)
{
	FILE *f = fopen("shift.zone", "w");
	if (f == NULL) {
		return -1;
	}
	fputs("$ORIGIN shift.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
	      "@ NS ns1\nns1 A 192.0.2.1\n",
	      f);
	fclose(f);
	ct_zonefile_t zf;
	ct_zonefile_init(&zf, quiet, NULL);
	int ret = ct_zonefile_parse(&zf, "shift.zone", NULL);
	if (ret == CT_EOK) {
		ret = ct_zonefile_validate(&zf);
	}
	if (ret == CT_EOK) {
		ct_txn_t txn;
		ct_txn_begin(&st, &txn, true);
		ct_zonefile_write(&zf, &txn);
		ret = ct_txn_commit(&txn);
	}
	ct_zonefile_deinit(&zf);
	return ret;
}

static const char *const names[] = { "blue", "green", "red", "gray", "teal" };

/* An A pool with n groups (names[] in order), the weights given, 2 targets each:
 * 192.0.2.(10g+t) for blue, 198.51.100.(10g+t) for the others. */
static void make_pool(ct_pool_t *p, int n, const uint32_t *weights)
{
	memset(p, 0, sizeof(*p));
	p->type = CT_TYPE_A;
	p->policy = CT_POLICY_WEIGHTED;
	p->ttl = 30;
	p->ngroups = (uint8_t)n;
	for (int g = 0; g < n; g++) {
		snprintf(p->groups[g].name, sizeof(p->groups[g].name), "%s", names[g]);
		p->groups[g].weight = weights[g];
		p->groups[g].ntargets = 2;
		for (int t = 0; t < 2; t++) {
			uint8_t *a = p->groups[g].targets[t];
			a[0] = g == 0 ? 192 : 198;
			a[1] = g == 0 ? 0 : 51;
			a[2] = g == 0 ? 2 : 100;
			a[3] = (uint8_t)(10 * g + t);
		}
	}
}

static int put_pool(const char *owner, const ct_pool_t *p)
{
	uint8_t o[CT_DNAME_MAXLEN];
	char err[512];
	bool changed;
	ct_txn_t txn;
	wire(owner, o);
	ct_txn_begin(&st, &txn, true);
	int ret = ct_pool_put(&txn, o, p, "tester", "pool set", &changed, err, sizeof(err));
	int c = ct_txn_commit(&txn);
	if (ret != CT_EOK || c != CT_EOK) {
		diag("pool set %s: %s", owner, err);
	}
	return ret != CT_EOK ? ret : c;
}

static void pool_at(const char *owner, int n, uint32_t w0, uint32_t w1, uint32_t w2)
{
	static ct_pool_t p;
	uint32_t w[3] = { w0, w1, w2 };
	make_pool(&p, n, w);
	put_pool(owner, &p);
}

static void key_of(const char *owner, uint8_t *key, size_t *klen)
{
	uint8_t o[CT_DNAME_MAXLEN];
	char err[256];
	ct_txn_t txn;
	wire(owner, o);
	ct_txn_begin(&st, &txn, false);
	if (ct_pool_key(&txn, o, CT_TYPE_A, key, klen, err, sizeof(err)) != CT_EOK) {
		*klen = 0;
	}
	ct_txn_abort(&txn);
}

/* A plan: kind, group, steps (percent list ending with 0), every_ms; gate 1, rollback on
 * unhealthy. */
static void plan_shift(ct_shift_t *s, uint8_t kind, const char *group, const uint8_t *steps,
                       uint32_t every)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	snprintf(s->group, sizeof(s->group), "%s", group);
	while (steps[s->nsteps] != 0) {
		s->steps[s->nsteps] = steps[s->nsteps];
		s->nsteps++;
	}
	s->every_ms = every;
	s->min_healthy = 1;
	s->rollback_on = CT_ROLLBACK_ON_UNHEALTHY;
	snprintf(s->actor, sizeof(s->actor), "tester");
}

/* ct_shift_start in its own transaction; the commit's status when the start succeeded. */
static int start(const char *owner, ct_shift_t *s, uint64_t now, char *err, size_t errlen)
{
	uint8_t o[CT_DNAME_MAXLEN];
	ct_txn_t txn;
	wire(owner, o);
	err[0] = '\0';
	ct_txn_begin(&st, &txn, true);
	int ret = ct_shift_start(&txn, o, CT_TYPE_A, s, now, err, errlen);
	if (ret != CT_EOK) {
		ok(txn.ret != CT_EOK, "a refused start fails its transaction");
		ct_txn_abort(&txn);
		return ret;
	}
	return ct_txn_commit(&txn);
}

static bool tick(const char *owner, uint64_t now, char *log, size_t loglen)
{
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	ct_txn_t txn;
	key_of(owner, key, &klen);
	ct_txn_begin(&st, &txn, true);
	bool wrote = ct_shift_tick(&txn, key, klen, now, log, loglen);
	if (wrote) {
		wrote = ct_txn_commit(&txn) == CT_EOK;
	} else {
		ct_txn_abort(&txn);
	}
	return wrote;
}

/* An operator action (pause, resume, abort, rollback) in its own transaction. */
enum { PAUSE, RESUME, ABORT, ROLLBACK };

static int act(const char *owner, int what, uint64_t now, char *err, size_t errlen)
{
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	ct_txn_t txn;
	int ret;
	key_of(owner, key, &klen);
	err[0] = '\0';
	ct_txn_begin(&st, &txn, true);
	switch (what) {
	case PAUSE:
		ret = ct_shift_pause(&txn, key, klen, now, err, errlen);
		break;
	case RESUME:
		ret = ct_shift_resume(&txn, key, klen, now, err, errlen);
		break;
	case ABORT:
		ret = ct_shift_abort(&txn, key, klen, now, "ops", err, errlen);
		break;
	default:
		ret = ct_shift_rollback(&txn, key, klen, now, "ops", "rolled back by ops", err,
		                        errlen);
		break;
	}
	if (ret != CT_EOK) {
		ct_txn_abort(&txn);
		return ret;
	}
	return ct_txn_commit(&txn);
}

static int get_shift(const char *owner, ct_shift_t *s)
{
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	ct_txn_t txn;
	key_of(owner, key, &klen);
	ct_txn_begin(&st, &txn, false);
	int ret = ct_shift_get(&txn, key, klen, s);
	ct_txn_abort(&txn);
	return ret;
}

/* "blue=90 green=10" of the pool at owner, or "-" when there is none. */
static const char *weights(const char *owner)
{
	static char out[256];
	static ct_pool_t p;
	uint8_t o[CT_DNAME_MAXLEN];
	ct_txn_t txn;
	wire(owner, o);
	ct_txn_begin(&st, &txn, false);
	int ret = ct_pool_get(&txn, o, CT_TYPE_A, &p);
	ct_txn_abort(&txn);
	size_t n = 0;
	snprintf(out, sizeof(out), "-");
	for (int g = 0; ret == CT_EOK && g < p.ngroups; g++) {
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s=%u", g ? " " : "",
		                      p.groups[g].name, p.groups[g].weight);
	}
	return out;
}

/* Set the health of target t of group g of the pool at owner. */
static void health(const char *owner, int g, int t, uint8_t state, bool drained, const char *error)
{
	static ct_pool_t p;
	uint8_t key[CT_RR_KEY_MAXLEN], o[CT_DNAME_MAXLEN];
	size_t klen;
	ct_txn_t txn;
	ct_health_t h = { .state = state, .drained = drained, .since_ms = T0, .last_ms = T0 };
	snprintf(h.error, sizeof(h.error), "%s", error);
	key_of(owner, key, &klen);
	wire(owner, o);
	ct_txn_begin(&st, &txn, true);
	ct_pool_get(&txn, o, CT_TYPE_A, &p);
	ct_health_put(&txn, key, klen, p.groups[g].targets[t], 4, &h);
	ct_txn_commit(&txn);
}

/* The actions of the pool's history entries that start with "shift", oldest first, joined by
 * " | "; and who wrote the last of them. */
typedef struct {
	char action[16][256]; /* newest first */
	char last_actor[64];
	int n;
	char text[16 * 259];
} actions_t;

static bool take_action(const ct_history_t *h, void *arg)
{
	actions_t *a = arg;
	if (h->action_len < 5 || memcmp(h->action, "shift", 5) != 0) {
		return true;
	}
	if (a->n == 0) {
		snprintf(a->last_actor, sizeof(a->last_actor), "%.*s", (int)h->actor_len, h->actor);
	}
	snprintf(a->action[a->n++], sizeof(a->action[0]), "%.*s", (int)h->action_len, h->action);
	return a->n < 16;
}

static const char *shift_history(const char *owner, actions_t *a)
{
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	ct_txn_t txn;
	memset(a, 0, sizeof(*a));
	key_of(owner, key, &klen);
	ct_txn_begin(&st, &txn, false);
	ct_history_foreach(&txn, key, klen, take_action, a);
	ct_txn_abort(&txn);
	size_t len = 0;
	for (int i = a->n - 1; i >= 0; i--) {
		len += (size_t)snprintf(a->text + len, sizeof(a->text) - len, "%s%s", a->action[i],
		                        i > 0 ? " | " : "");
	}
	return a->text;
}

/* ------------------------------------------------------------------------------------------ */

static void test_codec(void)
{
	static ct_shift_t s, t;
	static ct_pool_t p;
	uint32_t w[2] = { 100, 0 };
	make_pool(&p, 2, w);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 10, 20, 30, 100, 0 }, 60000);
	s.state = CT_SHIFT_PAUSED;
	s.done = 2;
	s.started_ms = T0;
	s.next_ms = T0 + 120000;
	s.ended_ms = 7;
	s.paused_left_ms = 4321;
	s.min_healthy = 3;
	s.rollback_on = CT_ROLLBACK_ON_NONE;
	snprintf(s.reason, sizeof(s.reason), "why not");
	s.before_len = ct_pool_encode(&p, s.before);

	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = ct_shift_encode(&s, &buf);
	ok(len > 0 && buf[0] == CT_VALUE_VERSION, "encodes, version byte first (%zu bytes)", len);
	MDB_val v = { len, buf };
	is_int(ct_shift_parse(&v, &t), CT_EOK, "parses");
	ok(t.state == s.state && t.kind == s.kind && strcmp(t.group, "green") == 0 &&
	       t.nsteps == 4 && memcmp(t.steps, s.steps, 4) == 0 && t.done == 2 &&
	       t.every_ms == 60000 && t.started_ms == T0 && t.next_ms == T0 + 120000 &&
	       t.ended_ms == 7 && t.paused_left_ms == 4321 && t.min_healthy == 3 &&
	       t.rollback_on == CT_ROLLBACK_ON_NONE && strcmp(t.actor, "tester") == 0 &&
	       strcmp(t.reason, "why not") == 0,
	   "every field survives the round trip");
	is_mem(t.before, t.before_len, s.before, s.before_len, "the pre-shift pool survives");
	is_mem(buf2, ct_shift_encode(&t, &buf2), buf, len, "encode(parse(v)) == v");
	free(buf2);

	v.mv_size = len - 1;
	is_int(ct_shift_parse(&v, &t), CT_EDBCORRUPT, "truncated: corrupt");
	v.mv_size = 3;
	is_int(ct_shift_parse(&v, &t), CT_EDBCORRUPT, "short: corrupt");
	v.mv_size = len;
	buf[0] = 2;
	is_int(ct_shift_parse(&v, &t), CT_EDBCORRUPT, "unknown version: corrupt");
	buf[0] = CT_VALUE_VERSION;
	size_t at_done = 1 + 2 + 1 + 5 + 1 + 4; /* version state kind glen "green" nsteps steps */
	buf[at_done] = 5;
	is_int(ct_shift_parse(&v, &t), CT_EDBCORRUPT, "more steps done than planned: corrupt");
	free(buf);
}

/* ct_shift_weights of a pool with n groups (weights before) for group g at pct, as text. */
static const char *scaled(int n, const uint32_t *before_w, int g, unsigned pct)
{
	static ct_pool_t before, pool;
	static char out[256];
	make_pool(&before, n, before_w);
	pool = before;
	ct_shift_weights(&pool, g, pct, &before);
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%u", i ? " " : "",
		                        pool.groups[i].weight);
	}
	return out;
}

static void test_weights(void)
{
	is_str(scaled(2, (uint32_t[]){ 100, 0 }, 1, 10), "90 10", "two groups: green 10 %%");
	is_str(scaled(2, (uint32_t[]){ 100, 0 }, 1, 100), "0 100", "two groups: green 100 %%");
	is_str(scaled(2, (uint32_t[]){ 3, 700 }, 0, 25), "25 75",
	       "two groups: the other gets the rest whatever its scale");
	is_str(scaled(3, (uint32_t[]){ 60, 0, 20 }, 1, 20), "60 20 20",
	       "three groups: the others keep their proportion (3:1)");
	is_str(scaled(3, (uint32_t[]){ 60, 0, 20 }, 1, 50), "38 50 12",
	       "three groups, 50 %%: 37.5/12.5 rounded to a total of 100");
	is_str(scaled(3, (uint32_t[]){ 0, 100, 0 }, 1, 40), "30 40 30",
	       "the others all 0: they share the rest equally");
	is_str(scaled(3, (uint32_t[]){ 0, 100, 0 }, 1, 41), "30 41 29",
	       "equal shares that do not divide: total exactly 100");
	is_str(scaled(4, (uint32_t[]){ 1, 0, 1, 1 }, 1, 11), "30 11 30 29",
	       "three equal others, 89 points: 30 30 29");
	is_str(scaled(3, (uint32_t[]){ 100, 0, 0 }, 1, 30), "70 30 0",
	       "a group at 0 while the others are not stays at 0");

	/* every group, every percent, awkward weights: total 100, the group gets pct, each other
	 * group within one point of its exact share, zero stays zero */
	static const uint32_t w[5] = { 7, 13, 0, CT_POOL_MAX_WEIGHT, 3 };
	static ct_pool_t before, pool;
	make_pool(&before, 5, w);
	int bad = 0;
	for (int g = 0; g < 5; g++) {
		uint64_t others = 0;
		for (int i = 0; i < 5; i++) {
			others += i == g ? 0 : w[i];
		}
		for (unsigned pct = 1; pct <= 100; pct++) {
			pool = before;
			ct_shift_weights(&pool, g, pct, &before);
			unsigned total = 0;
			for (int i = 0; i < 5; i++) {
				total += pool.groups[i].weight;
				double exact = (100.0 - pct) * w[i] / (double)others;
				if (i != g && (pool.groups[i].weight > exact + 1 ||
				               pool.groups[i].weight + 1 < exact ||
				               (w[i] == 0 && pool.groups[i].weight != 0))) {
					bad++;
				}
			}
			bad += total != 100 || pool.groups[g].weight != pct;
		}
	}
	is_int(bad, 0, "500 cases: totals 100, the group at pct, the others proportional");

	/* a group the pre-shift pool did not have counts 0 */
	static ct_pool_t now;
	make_pool(&before, 2, (uint32_t[]){ 100, 0 });
	make_pool(&now, 3, (uint32_t[]){ 100, 0, 50 });
	ct_shift_weights(&now, 1, 20, &before);
	ok(now.groups[0].weight == 80 && now.groups[1].weight == 20 && now.groups[2].weight == 0,
	   "a group added since the shift started gets 0 (%u %u %u)", now.groups[0].weight,
	   now.groups[1].weight, now.groups[2].weight);
}

static void test_start(void)
{
	static ct_shift_t s, t;
	char err[512];
	actions_t a;
	pool_at("api.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 10, 20, 30, 40, 100, 0 }, 1000);
	is_int(start("api.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "start: %s", err);
	is_str(weights("api.shift.test"), "blue=90 green=10", "the first step is applied at once");
	is_int(get_shift("api.shift.test", &t), CT_EOK, "the schedule is stored");
	ok(t.state == CT_SHIFT_RUNNING && t.done == 1 && t.next_ms == T0 + 1000 &&
	       t.started_ms == T0 && t.reason[0] == '\0' && t.before_len > 0,
	   "running, 1 step done, the next due one interval later");
	is_str(shift_history("api.shift.test", &a), "shift step 1 of 5: green 10%",
	       "history: step 1, by the starter");
	is_str(a.last_actor, "tester", "the first step's actor is the operator's");

	plan_shift(&s, CT_SHIFT_CANARY, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("api.shift.test", &s, T0 + 10, err, sizeof(err)), CT_EEXIST,
	       "a second shift on the same pool is refused");
	ok(strstr(err, "already has a running shift to green (step 1 of 5)") != NULL,
	   "saying which: %s", err);
	is_int(act("api.shift.test", PAUSE, T0 + 20, err, sizeof(err)), CT_EOK, "pause");
	is_int(start("api.shift.test", &s, T0 + 30, err, sizeof(err)), CT_EEXIST,
	       "a paused shift also blocks a new one");
	ok(strstr(err, "paused shift") != NULL, "%s", err);
	is_str(weights("api.shift.test"), "blue=90 green=10", "refusals changed nothing");

	pool_at("other.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "purple", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_ENOENT, "unknown group");
	ok(strstr(err, "has no group 'purple'") != NULL, "%s", err);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("none.shift.test", &s, T0, err, sizeof(err)), CT_ENOTFOUND, "no pool");
	ok(strstr(err, "none.shift.test. has no A pool") != NULL, "%s", err);
	is_int(start("x.elsewhere.test", &s, T0, err, sizeof(err)), CT_ENOZONE, "no zone");
	plan_shift(&s, CT_SHIFT_STEPS, "green", (const uint8_t[]){ 50, 40, 0 }, 1000);
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_EINVAL,
	       "falling steps are refused");
	plan_shift(&s, CT_SHIFT_STEPS, "green", (const uint8_t[]){ 50, 101, 0 }, 1000);
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_EINVAL,
	       "a step above 100 is refused");
	plan_shift(&s, CT_SHIFT_STEPS, "green", (const uint8_t[]){ 0 }, 1000);
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_EINVAL,
	       "no steps is refused");

	/* the gate before the first step */
	health("other.shift.test", 1, 0, CT_HEALTH_DOWN, false, "connection refused");
	health("other.shift.test", 1, 1, CT_HEALTH_UP, true, "");
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_EINVAL,
	       "no healthy target in the group: refused");
	ok(strstr(err, "group 'green' has 0 healthy targets, the shift needs 1; 198.51.100.10 "
	               "down: connection refused") != NULL,
	   "naming the first bad target: %s", err);
	health("other.shift.test", 1, 1, CT_HEALTH_UP, false, "");
	s.min_healthy = 2;
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_EINVAL,
	       "min_healthy 2 with one healthy: refused");
	is_str(weights("other.shift.test"), "blue=100 green=0", "nothing written");
	is_int(get_shift("other.shift.test", &t), CT_ENOTFOUND, "no schedule stored");
	s.min_healthy = 1;
	is_int(start("other.shift.test", &s, T0, err, sizeof(err)), CT_EOK,
	       "one healthy of two passes gate 1: %s", err);
	is_str(weights("other.shift.test"), "blue=50 green=50", "step 1 at 50 %%");
}

static void test_pause_resume(void)
{
	static ct_shift_t s;
	char err[512], log[300];
	pool_at("pause.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 25, 50, 75, 100, 0 }, 10000);
	is_int(start("pause.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "start");
	is_int(act("pause.shift.test", PAUSE, T0 + 3000, err, sizeof(err)), CT_EOK,
	       "pause 3 s into a 10 s wait");
	get_shift("pause.shift.test", &s);
	ok(s.state == CT_SHIFT_PAUSED && s.paused_left_ms == 7000, "paused, 7 s left (%llu)",
	   (unsigned long long)s.paused_left_ms);
	is_int(act("pause.shift.test", PAUSE, T0 + 4000, err, sizeof(err)), CT_EEXIST,
	       "pausing twice: refused (%s)", err);
	ok(!tick("pause.shift.test", T0 + 60000, log, sizeof(log)),
	   "a paused shift does not step, however late");
	is_str(weights("pause.shift.test"), "blue=75 green=25", "still at step 1");
	is_int(act("pause.shift.test", RESUME, T0 + 100000, err, sizeof(err)), CT_EOK, "resume");
	get_shift("pause.shift.test", &s);
	ok(s.state == CT_SHIFT_RUNNING && s.next_ms == T0 + 107000 && s.paused_left_ms == 0,
	   "running again, the next step 7 s after the resume");
	is_int(act("pause.shift.test", RESUME, T0 + 100001, err, sizeof(err)), CT_EINVAL,
	       "resuming a running shift: refused (%s)", err);
	ok(!tick("pause.shift.test", T0 + 106999, log, sizeof(log)), "not due 1 ms before");
	ok(tick("pause.shift.test", T0 + 107000, log, sizeof(log)), "due at the remaining wait");
	is_str(weights("pause.shift.test"), "blue=50 green=50", "step 2");

	/* paused when the step was already due: resumes due at once */
	is_int(act("pause.shift.test", PAUSE, T0 + 120000, err, sizeof(err)), CT_EOK,
	       "pause 3 s after the next step was due");
	get_shift("pause.shift.test", &s);
	is_int(s.paused_left_ms, 0, "nothing left to wait");
	act("pause.shift.test", RESUME, T0 + 200000, err, sizeof(err));
	ok(tick("pause.shift.test", T0 + 200000, log, sizeof(log)), "due at the resume");
	is_str(weights("pause.shift.test"), "blue=25 green=75", "step 3");
}

static void test_ticks(void)
{
	static ct_shift_t s;
	char err[512], log[300];
	actions_t a;
	pool_at("tick.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_STEPS, "green", (const uint8_t[]){ 10, 20, 30, 100, 0 }, 1000);
	is_int(start("tick.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "start");
	ok(!tick("tick.shift.test", T0 + 999, log, sizeof(log)), "no step before it is due");
	ok(tick("tick.shift.test", T0 + 1000, log, sizeof(log)), "the step when it is due");
	is_str(log, "step 2 of 4: green 20%", "the log line");
	ok(!tick("tick.shift.test", T0 + 1000, log, sizeof(log)),
	   "a second tick at the same time applies nothing");
	is_str(weights("tick.shift.test"), "blue=80 green=20", "exactly one step applied");

	/* the daemon was away for 9 intervals */
	ok(tick("tick.shift.test", T0 + 10000, log, sizeof(log)), "an overdue step is applied");
	is_str(weights("tick.shift.test"), "blue=70 green=30", "once: step 3, not 4");
	get_shift("tick.shift.test", &s);
	ok(s.done == 3 && s.next_ms == T0 + 11000, "the next is due one interval after it (%llu)",
	   (unsigned long long)(s.next_ms - T0));
	ok(!tick("tick.shift.test", T0 + 10999, log, sizeof(log)), "not before");
	ok(tick("tick.shift.test", T0 + 11000, log, sizeof(log)), "the last step");
	get_shift("tick.shift.test", &s);
	ok(s.state == CT_SHIFT_DONE && s.ended_ms == T0 + 11000 &&
	       strcmp(s.reason, "completed: green at 100%") == 0,
	   "done, with its reason: %s", s.reason);
	is_str(weights("tick.shift.test"), "blue=0 green=100", "green has all");
	ok(!tick("tick.shift.test", T0 + 99000, log, sizeof(log)), "a done shift does nothing");
	is_str(shift_history("tick.shift.test", &a),
	       "shift step 1 of 4: green 10% | shift step 2 of 4: green 20% | "
	       "shift step 3 of 4: green 30% | shift step 4 of 4: green 100%",
	       "history: every step once, in order");
	is_str(a.last_actor, "shift", "later steps are by 'shift'");
	is_int(act("tick.shift.test", ABORT, T0 + 99000, err, sizeof(err)), CT_ENOENT,
	       "abort of a done shift: %s", err);
	is_int(act("tick.shift.test", ROLLBACK, T0 + 99000, err, sizeof(err)), CT_ENOENT,
	       "rollback of a done shift: refused (rollback then undoes the last step)");
	plan_shift(&s, CT_SHIFT_CANARY, "blue", (const uint8_t[]){ 10, 100, 0 }, 1000);
	is_int(start("tick.shift.test", &s, T0 + 100000, err, sizeof(err)), CT_EOK,
	       "a new shift after a done one");
	is_str(weights("tick.shift.test"), "blue=10 green=90", "back the other way");
}

static void test_gate(void)
{
	static ct_shift_t s;
	char err[512], log[300];
	actions_t a;
	pool_at("gate.shift.test", 2, 80, 20, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 25, 50, 75, 100, 0 }, 1000);
	is_int(start("gate.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "start from 80/20");
	ok(tick("gate.shift.test", T0 + 1000, log, sizeof(log)), "step 2");
	health("gate.shift.test", 1, 0, CT_HEALTH_DOWN, false, "connection refused");
	health("gate.shift.test", 1, 1, CT_HEALTH_UP, false, "");
	ok(!tick("gate.shift.test", T0 + 1500, log, sizeof(log)),
	   "one target down, one up: gate 1 holds, nothing written");
	health("gate.shift.test", 1, 1, CT_HEALTH_DOWN, false, "timeout");
	ok(tick("gate.shift.test", T0 + 1600, log, sizeof(log)),
	   "both down: the tick rolls back before the step is due");
	is_str(weights("gate.shift.test"), "blue=80 green=20", "the pre-shift weights are back");
	get_shift("gate.shift.test", &s);
	ok(s.state == CT_SHIFT_ROLLED_BACK && s.ended_ms == T0 + 1600 && s.done == 2,
	   "rolled back at step 2");
	is_str(s.reason, "rolled back: 198.51.100.10 down: connection refused",
	       "the reason names the first bad target");
	is_str(log, s.reason, "and so does the log");
	is_str(shift_history("gate.shift.test", &a),
	       "shift step 1 of 4: green 25% | shift step 2 of 4: green 50% | "
	       "shift rollback: rolled back: 198.51.100.10 down: connection refused",
	       "history: the steps, then the rollback");
	is_str(a.last_actor, "shift", "the rollback's actor is 'shift'");
	ok(!tick("gate.shift.test", T0 + 9000, log, sizeof(log)), "then nothing more");

	/* gate 2: one drained target of two is enough to roll back */
	pool_at("gate2.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_CANARY, "green", (const uint8_t[]){ 10, 100, 0 }, 60000);
	s.min_healthy = 2;
	is_int(start("gate2.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "canary, gate 2");
	health("gate2.shift.test", 1, 1, CT_HEALTH_UP, true, "");
	ok(tick("gate2.shift.test", T0 + 5, log, sizeof(log)), "a drained target: rolled back");
	is_str(log, "rolled back: 198.51.100.11 drained", "the reason says drained");
	is_str(weights("gate2.shift.test"), "blue=100 green=0", "blue has all again");

	/* rollback-on none holds while the group is short, and continues after */
	pool_at("hold.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	s.rollback_on = CT_ROLLBACK_ON_NONE;
	is_int(start("hold.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "rollback-on none");
	health("hold.shift.test", 1, 0, CT_HEALTH_DOWN, false, "refused");
	health("hold.shift.test", 1, 1, CT_HEALTH_DOWN, false, "refused");
	ok(!tick("hold.shift.test", T0 + 5000, log, sizeof(log)),
	   "the group is down: nothing written, though the step is due");
	get_shift("hold.shift.test", &s);
	ok(s.state == CT_SHIFT_RUNNING && s.done == 1, "still running at step 1");
	is_str(weights("hold.shift.test"), "blue=50 green=50", "weights held");
	health("hold.shift.test", 1, 1, CT_HEALTH_UP, false, "");
	ok(tick("hold.shift.test", T0 + 6000, log, sizeof(log)), "healthy again: the step");
	is_str(weights("hold.shift.test"), "blue=0 green=100", "completed");

	/* a paused shift takes no step but its gate still rolls it back */
	pool_at("pgate.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_CANARY, "green", (const uint8_t[]){ 10, 100, 0 }, 1000);
	is_int(start("pgate.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "canary to pause");
	is_int(act("pgate.shift.test", PAUSE, T0 + 10, err, sizeof(err)), CT_EOK, "paused");
	ok(!tick("pgate.shift.test", T0 + 5000, log, sizeof(log)), "paused: no step when due");
	health("pgate.shift.test", 1, 0, CT_HEALTH_DOWN, false, "refused");
	health("pgate.shift.test", 1, 1, CT_HEALTH_DOWN, false, "refused");
	ok(tick("pgate.shift.test", T0 + 5100, log, sizeof(log)), "paused and green down: rolled back");
	is_str(weights("pgate.shift.test"), "blue=100 green=0", "pre-shift weights are back");

	/* a step whose weights are already in place still goes into history */
	pool_at("same.shift.test", 2, 90, 10, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 10, 20, 0 }, 1000);
	is_int(start("same.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "step 1 = 90/10 already");
	is_str(shift_history("same.shift.test", &a), "shift step 1 of 2: green 10%",
	       "the unchanged step 1 is in history");

	/* an operator's rollback and abort */
	pool_at("op.shift.test", 3, 60, 0, 40);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("op.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "three groups");
	is_str(weights("op.shift.test"), "blue=30 green=50 red=20", "blue and red keep 3:2");
	is_int(act("op.shift.test", ROLLBACK, T0 + 10, err, sizeof(err)), CT_EOK, "rollback");
	is_str(weights("op.shift.test"), "blue=60 green=0 red=40", "pre-shift weights");
	get_shift("op.shift.test", &s);
	ok(s.state == CT_SHIFT_ROLLED_BACK && strcmp(s.reason, "rolled back by ops") == 0,
	   "rolled back, the operator's reason: %s", s.reason);
	is_str(shift_history("op.shift.test", &a),
	       "shift step 1 of 2: green 50% | shift rollback: rolled back by ops",
	       "history: the rollback by the operator");
	is_str(a.last_actor, "ops", "actor ops");
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("op.shift.test", &s, T0 + 20, err, sizeof(err)), CT_EOK, "again");
	is_int(act("op.shift.test", ABORT, T0 + 30, err, sizeof(err)), CT_EOK, "abort");
	get_shift("op.shift.test", &s);
	ok(s.state == CT_SHIFT_ABORTED && strcmp(s.reason, "aborted by ops at step 1 of 2") == 0,
	   "aborted where it was: %s", s.reason);
	is_str(weights("op.shift.test"), "blue=30 green=50 red=20", "the weights stay");
	ok(!tick("op.shift.test", T0 + 5000, log, sizeof(log)), "an aborted shift does nothing");
}

static void test_pool_gone(void)
{
	static ct_shift_t s;
	static ct_pool_t p;
	char err[512], log[300];
	uint8_t o[CT_DNAME_MAXLEN];
	ct_txn_t txn;
	pool_at("del.shift.test", 2, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "green", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("del.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "start");
	wire("del.shift.test", o);
	ct_txn_begin(&st, &txn, true);
	ct_pool_delete(&txn, o, CT_TYPE_A, "tester", NULL, err, sizeof(err));
	is_int(ct_txn_commit(&txn), CT_EOK, "the pool is deleted mid-shift");
	ok(tick("del.shift.test", T0 + 10, log, sizeof(log)), "the next tick ends the shift");
	get_shift("del.shift.test", &s);
	ok(s.state == CT_SHIFT_ABORTED && strcmp(s.reason, "aborted: the pool was deleted") == 0,
	   "aborted: %s", s.reason);
	is_str(weights("del.shift.test"), "-", "and does not bring the pool back");

	pool_at("grp.shift.test", 3, 100, 0, 0);
	plan_shift(&s, CT_SHIFT_LINEAR, "red", (const uint8_t[]){ 50, 100, 0 }, 1000);
	is_int(start("grp.shift.test", &s, T0, err, sizeof(err)), CT_EOK, "shift to red");
	make_pool(&p, 2, (uint32_t[]){ 50, 50 });
	put_pool("grp.shift.test", &p);
	ok(tick("grp.shift.test", T0 + 10, log, sizeof(log)), "red removed: the tick ends it");
	get_shift("grp.shift.test", &s);
	ok(s.state == CT_SHIFT_ABORTED &&
	       strcmp(s.reason, "aborted: the group was removed from the pool") == 0,
	   "aborted: %s", s.reason);
	is_str(weights("grp.shift.test"), "blue=50 green=50", "the pool is left as it was set");
}

int main(void)
{
	strcpy(tmp, "/tmp/ct-shift-XXXXXX");
	if (mkdtemp(tmp) == NULL || chdir(tmp) != 0) {
		perror(tmp);
		return 1;
	}
	ct_log_set_level(CT_LOG_ERR);
	test_codec();
	test_weights();

	ct_store_opts_t opts = { .create = true };
	if (ct_store_open(&st, "db", &opts) != CT_EOK) {
		diag("%s", ct_store_last_error());
		return 1;
	}
	if (import_zone() != CT_EOK) {
		diag("cannot import the test zone");
		return 1;
	}
	test_start();
	test_pause_resume();
	test_ticks();
	test_gate();
	test_pool_gone();
	ct_store_close(&st);

	if (chdir("/") == 0) {
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	done_testing();
	return exit_status();
}
