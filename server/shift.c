/* SPDX-License-Identifier: MIT */
/* Shifts: the schedules codec and the transactions that move a pool's weights step by step. */
#include "cutover/shift.h"
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/history.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ct_shift_encode(const ct_shift_t *s, uint8_t **out)
{
	size_t glen = strlen(s->group), alen = strlen(s->actor), rlen = strlen(s->reason);
	size_t len = 4 + glen + 1 + s->nsteps + 1 + 4 + 8 * 4 + 2 + 1 + 1 + alen + 1 + rlen + 4 +
	             s->before_len;
	uint8_t *b = malloc(len), *p = b;
	if (b == NULL) {
		return 0;
	}
	*p++ = CT_VALUE_VERSION;
	*p++ = s->state;
	*p++ = s->kind;
	*p++ = (uint8_t)glen;
	memcpy(p, s->group, glen);
	p += glen;
	*p++ = s->nsteps;
	memcpy(p, s->steps, s->nsteps);
	p += s->nsteps;
	*p++ = s->done;
	ct_put32(p, s->every_ms);
	ct_put64(p + 4, s->started_ms);
	ct_put64(p + 12, s->next_ms);
	ct_put64(p + 20, s->ended_ms);
	ct_put64(p + 28, s->paused_left_ms);
	ct_put16(p + 36, s->min_healthy);
	p[38] = s->rollback_on;
	p += 39;
	*p++ = (uint8_t)alen;
	memcpy(p, s->actor, alen);
	p += alen;
	*p++ = (uint8_t)rlen;
	memcpy(p, s->reason, rlen);
	p += rlen;
	ct_put32(p, (uint32_t)s->before_len);
	memcpy(p + 4, s->before, s->before_len);
	p += 4 + s->before_len;
	*out = b;
	return (size_t)(p - b);
}

/* A len(1)-prefixed text into out (room for 255 + NUL). */
static const uint8_t *get_text(const uint8_t *p, const uint8_t *end, char *out, size_t max)
{
	if (p == NULL || p + 1 > end || p + 1 + p[0] > end || p[0] >= max) {
		return NULL;
	}
	memcpy(out, p + 1, p[0]);
	out[p[0]] = '\0';
	return p + 1 + p[0];
}

int ct_shift_parse(const MDB_val *val, ct_shift_t *s)
{
	const uint8_t *p = val->mv_data, *end = p + val->mv_size;
	memset(s, 0, offsetof(ct_shift_t, before));
	s->before_len = 0;
	if (val->mv_size < 4 || p[0] != CT_VALUE_VERSION) {
		return CT_EDBCORRUPT;
	}
	s->state = p[1];
	s->kind = p[2];
	p = get_text(p + 3, end, s->group, sizeof(s->group));
	if (p == NULL || p + 1 > end || p + 1 + p[0] > end || p[0] > CT_SHIFT_MAX_STEPS) {
		return CT_EDBCORRUPT;
	}
	s->nsteps = p[0];
	memcpy(s->steps, p + 1, s->nsteps);
	p += 1 + s->nsteps;
	if (p + 40 > end) {
		return CT_EDBCORRUPT;
	}
	s->done = p[0];
	s->every_ms = ct_get32(p + 1);
	s->started_ms = ct_get64(p + 5);
	s->next_ms = ct_get64(p + 13);
	s->ended_ms = ct_get64(p + 21);
	s->paused_left_ms = ct_get64(p + 29);
	s->min_healthy = ct_get16(p + 37);
	s->rollback_on = p[39];
	p = get_text(p + 40, end, s->actor, sizeof(s->actor));
	p = get_text(p, end, s->reason, sizeof(s->reason));
	if (p == NULL || p + 4 > end) {
		return CT_EDBCORRUPT;
	}
	s->before_len = ct_get32(p);
	if (s->before_len != (size_t)(end - p - 4) || s->before_len > sizeof(s->before) ||
	    s->done > s->nsteps) {
		return CT_EDBCORRUPT;
	}
	memcpy(s->before, p + 4, s->before_len);
	return CT_EOK;
}

int ct_shift_get(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, ct_shift_t *s)
{
	MDB_val v;
	if (!ct_txn_get(txn, txn->store->schedules, pkey, pklen, &v)) {
		return txn->ret != CT_EOK ? txn->ret : CT_ENOTFOUND;
	}
	return ct_shift_parse(&v, s);
}

void ct_shift_put(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_shift_t *s)
{
	uint8_t *buf;
	size_t len = ct_shift_encode(s, &buf);
	if (len == 0) {
		txn->ret = txn->ret != CT_EOK ? txn->ret : CT_ENOMEM;
		return;
	}
	ct_txn_put(txn, txn->store->schedules, pkey, pklen, buf, len);
	free(buf);
}

void ct_shift_weights(ct_pool_t *pool, int group, unsigned pct, const ct_pool_t *before)
{
	/* the others' pre-shift weights, by name (a group the shift does not know counts 0) */
	uint64_t w[CT_POOL_MAX_GROUPS] = { 0 }, total = 0;
	int others = 0;
	for (int g = 0; g < pool->ngroups; g++) {
		if (g == group) {
			continue;
		}
		int b = ct_pool_group_find(before, pool->groups[g].name);
		w[g] = b >= 0 ? before->groups[b].weight : 0;
		total += w[g];
		others++;
	}
	if (total == 0) {
		for (int g = 0; g < pool->ngroups; g++) {
			w[g] = g == group ? 0 : 1;
		}
		total = (uint64_t)others;
	}
	/* largest remainder: floors first, then one point each to the biggest remainders */
	unsigned rest = 100 - pct, given = 0;
	uint64_t rem[CT_POOL_MAX_GROUPS] = { 0 };
	for (int g = 0; g < pool->ngroups; g++) {
		if (g == group) {
			pool->groups[g].weight = pct;
			continue;
		}
		uint64_t share = total ? (uint64_t)rest * w[g] : 0;
		pool->groups[g].weight = total ? (uint32_t)(share / total) : 0;
		rem[g] = total ? share % total : 0;
		given += pool->groups[g].weight;
	}
	while (given < rest && total > 0) {
		int best = -1;
		for (int g = 0; g < pool->ngroups; g++) {
			if (g != group && w[g] > 0 && (best < 0 || rem[g] > rem[best])) {
				best = g;
			}
		}
		if (best < 0) {
			break;
		}
		pool->groups[best].weight++;
		rem[best] = 0;
		given++;
	}
}

int ct_shift_healthy(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_pool_t *pool,
                     int group, char *why, size_t whylen)
{
	int n = 0;
	size_t alen = pool->type == 28 ? 16 : 4;
	if (why != NULL && whylen > 0) {
		why[0] = '\0';
	}
	for (int t = 0; t < pool->groups[group].ntargets; t++) {
		ct_health_t h;
		ct_health_get(txn, pkey, pklen, pool->groups[group].targets[t], alen, &h);
		if (ct_health_serves(&h)) {
			n++;
		} else if (why != NULL && why[0] == '\0') {
			char addr[INET6_ADDRSTRLEN];
			inet_ntop(alen == 4 ? AF_INET : AF_INET6, pool->groups[group].targets[t],
			          addr, sizeof(addr));
			snprintf(why, whylen, "%s %s%s%s", addr, h.drained ? "drained" : "down",
			         h.error[0] ? ": " : "", h.error);
		}
	}
	return n;
}

/* The pool at a pools key, decoded, and its owner. */
static int load_pool(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint8_t *owner,
                     ct_pool_t *pool)
{
	MDB_val k = { pklen, (void *)pkey }, v;
	uint16_t type;
	if (ct_pool_key_owner(&k, owner, &type) != CT_EOK) {
		return CT_EDBCORRUPT;
	}
	if (!ct_txn_get(txn, txn->store->pools, pkey, pklen, &v)) {
		return txn->ret != CT_EOK ? txn->ret : CT_ENOTFOUND;
	}
	return ct_pool_decode(v.mv_data, v.mv_size, pool);
}

/* Set the group's share to steps[done] and write the pool; history says which step. */
static int apply_step(ct_txn_t *txn, const uint8_t *owner, ct_pool_t *pool, ct_shift_t *s,
                      int group, const char *actor, uint64_t now_ms, char *err, size_t errlen)
{
	ct_pool_t *before = malloc(sizeof(*before));
	if (before == NULL) {
		return txn->ret = CT_ENOMEM;
	}
	int ret = ct_pool_decode(s->before, s->before_len, before);
	if (ret == CT_EOK) {
		unsigned pct = s->steps[s->done];
		ct_shift_weights(pool, group, pct, before);
		char action[160];
		snprintf(action, sizeof(action), "shift step %u of %u: %s %u%%", s->done + 1,
		         s->nsteps, s->group, pct);
		bool changed;
		ret = ct_pool_put(txn, owner, pool, actor, action, &changed, err, errlen);
		if (ret == CT_EOK && !changed) {
			/* the weights were already there: the step still goes into history */
			uint8_t pkey[CT_RR_KEY_MAXLEN], *val = malloc(CT_POOL_VALUE_MAX);
			size_t pklen;
			ret = val ? ct_pool_key(txn, owner, pool->type, pkey, &pklen, err, errlen)
			          : CT_ENOMEM;
			if (ret == CT_EOK) {
				size_t vlen = ct_pool_encode(pool, val);
				ct_history_append(txn, actor, pkey, pklen, action, val, vlen, val,
				                  vlen);
				ret = txn->ret;
			}
			free(val);
		}
	}
	free(before);
	if (ret != CT_EOK) {
		return ret;
	}
	s->done++;
	if (s->done >= s->nsteps) {
		s->state = CT_SHIFT_DONE;
		s->ended_ms = now_ms;
		snprintf(s->reason, sizeof(s->reason), "completed: %s at %u%%", s->group,
		         s->steps[s->nsteps - 1]);
	} else {
		s->next_ms = now_ms + s->every_ms;
	}
	return CT_EOK;
}

int ct_shift_start(ct_txn_t *txn, const uint8_t *owner, uint16_t type, ct_shift_t *s,
                   uint64_t now_ms, char *err, size_t errlen)
{
	uint8_t pkey[CT_RR_KEY_MAXLEN];
	size_t pklen;
	char text[CT_DNAME_STRLEN];
	int ret = ct_pool_key(txn, owner, type, pkey, &pklen, err, errlen);
	if (ret != CT_EOK) {
		return txn->ret = ret;
	}
	if (s->nsteps == 0 || s->nsteps > CT_SHIFT_MAX_STEPS) {
		return txn->ret = ct_errf(err, errlen, CT_EINVAL, "a shift needs 1 to %d steps",
		                          CT_SHIFT_MAX_STEPS);
	}
	for (int i = 0; i < s->nsteps; i++) {
		if (s->steps[i] < 1 || s->steps[i] > 100 ||
		    (i > 0 && s->steps[i] <= s->steps[i - 1])) {
			return txn->ret = ct_errf(err, errlen, CT_EINVAL,
			                          "steps must rise from 1 to at most 100 percent");
		}
	}
	ct_shift_t *cur = malloc(sizeof(*cur));
	ct_pool_t *pool = malloc(sizeof(*pool));
	if (cur == NULL || pool == NULL) {
		ret = CT_ENOMEM;
		goto out;
	}
	if (ct_shift_get(txn, pkey, pklen, cur) == CT_EOK && ct_shift_active(cur)) {
		ret = ct_errf(err, errlen, CT_EEXIST,
		              "%s already has a %s shift to %s (step %u of %u); abort or roll "
		              "it back first",
		              ct_dname_to_str(owner, text),
		              cur->state == CT_SHIFT_PAUSED ? "paused" : "running", cur->group,
		              cur->done, cur->nsteps);
		goto out;
	}
	uint8_t owner_copy[CT_DNAME_MAXLEN];
	ret = load_pool(txn, pkey, pklen, owner_copy, pool);
	if (ret != CT_EOK) {
		if (ret == CT_ENOTFOUND) {
			ct_errf(err, errlen, ret, "%s has no %s pool", ct_dname_to_str(owner, text),
			        type == 28 ? "AAAA" : "A");
		}
		goto out;
	}
	int g = ct_pool_group_find(pool, s->group);
	if (g < 0) {
		ret = ct_errf(err, errlen, CT_ENOENT, "%s has no group '%s'",
		              ct_dname_to_str(owner, text), s->group);
		goto out;
	}
	char why[200];
	int healthy = ct_shift_healthy(txn, pkey, pklen, pool, g, why, sizeof(why));
	if (healthy < (s->min_healthy ? s->min_healthy : 1)) {
		ret = ct_errf(err, errlen, CT_EINVAL,
		              "group '%s' has %d healthy target%s, the shift needs %u%s%s",
		              s->group, healthy, healthy == 1 ? "" : "s",
		              s->min_healthy ? s->min_healthy : 1, why[0] ? "; " : "", why);
		goto out;
	}
	s->before_len = ct_pool_encode(pool, s->before);
	s->state = CT_SHIFT_RUNNING;
	s->done = 0;
	s->started_ms = now_ms;
	s->ended_ms = 0;
	s->paused_left_ms = 0;
	s->reason[0] = '\0';
	if (s->min_healthy == 0) {
		s->min_healthy = 1;
	}
	ret = apply_step(txn, owner, pool, s, g, s->actor, now_ms, err, errlen);
	if (ret == CT_EOK) {
		ct_shift_put(txn, pkey, pklen, s);
		ret = txn->ret;
	}
out:
	free(cur);
	free(pool);
	if (ret != CT_EOK && txn->ret == CT_EOK) {
		txn->ret = ret;
	}
	return ret;
}

/* End the shift with the pre-shift weights restored on the pool as it is now. */
static int restore(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, ct_shift_t *s, uint64_t now_ms,
                   const char *actor, const char *reason, char *err, size_t errlen)
{
	ct_pool_t *pool = malloc(sizeof(*pool)), *before = malloc(sizeof(*before));
	uint8_t owner[CT_DNAME_MAXLEN];
	int ret = pool && before ? load_pool(txn, pkey, pklen, owner, pool) : CT_ENOMEM;
	if (ret == CT_EOK) {
		ret = ct_pool_decode(s->before, s->before_len, before);
	}
	if (ret == CT_EOK) {
		for (int g = 0; g < pool->ngroups; g++) {
			int b = ct_pool_group_find(before, pool->groups[g].name);
			pool->groups[g].weight = b >= 0 ? before->groups[b].weight : 0;
		}
		char action[240];
		snprintf(action, sizeof(action), "shift rollback: %s", reason);
		bool changed;
		ret = ct_pool_put(txn, owner, pool, actor, action, &changed, err, errlen);
	}
	if (ret == CT_EOK) {
		s->state = CT_SHIFT_ROLLED_BACK;
		s->ended_ms = now_ms;
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
		ct_shift_put(txn, pkey, pklen, s);
		ret = txn->ret;
	}
	free(pool);
	free(before);
	if (ret != CT_EOK && txn->ret == CT_EOK) {
		txn->ret = ret;
	}
	return ret;
}

bool ct_shift_tick(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms, char *log,
                   size_t loglen)
{
	ct_shift_t *s = malloc(sizeof(*s));
	ct_pool_t *pool = malloc(sizeof(*pool));
	bool wrote = false;
	char err[256] = "";
	uint8_t owner[CT_DNAME_MAXLEN];
	log[0] = '\0';
	/* a paused shift takes no steps, but its gate still watches the group */
	if (s == NULL || pool == NULL || ct_shift_get(txn, pkey, pklen, s) != CT_EOK ||
	    !ct_shift_active(s)) {
		goto out;
	}
	int ret = load_pool(txn, pkey, pklen, owner, pool);
	int g = ret == CT_EOK ? ct_pool_group_find(pool, s->group) : -1;
	if (g < 0) {
		s->state = CT_SHIFT_ABORTED;
		s->ended_ms = now_ms;
		snprintf(s->reason, sizeof(s->reason), "aborted: %s",
		         ret == CT_ENOTFOUND ? "the pool was deleted"
		         : ret == CT_EOK     ? "the group was removed from the pool"
		                             : "the pool cannot be read");
		ct_shift_put(txn, pkey, pklen, s);
		snprintf(log, loglen, "%s", s->reason);
		wrote = true;
		goto out;
	}
	char why[200];
	int healthy = ct_shift_healthy(txn, pkey, pklen, pool, g, why, sizeof(why));
	if (healthy < s->min_healthy) {
		if (s->rollback_on == CT_ROLLBACK_ON_UNHEALTHY) {
			char reason[240];
			snprintf(reason, sizeof(reason), "rolled back: %s",
			         why[0] ? why : "no healthy target");
			if (restore(txn, pkey, pklen, s, now_ms, "shift", reason, err,
			            sizeof(err)) == CT_EOK) {
				snprintf(log, loglen, "%s", reason);
				wrote = true;
			}
		}
		goto out; /* rollback-on none: hold until the group is healthy again */
	}
	if (s->state == CT_SHIFT_RUNNING && now_ms >= s->next_ms && s->done < s->nsteps) {
		if (apply_step(txn, owner, pool, s, g, "shift", now_ms, err, sizeof(err)) ==
		    CT_EOK) {
			ct_shift_put(txn, pkey, pklen, s);
			snprintf(log, loglen, "step %u of %u: %s %u%%", s->done, s->nsteps,
			         s->group, s->steps[s->done - 1]);
			wrote = txn->ret == CT_EOK;
		}
	}
out:
	if (err[0] != '\0' && log[0] == '\0') {
		snprintf(log, loglen, "error: %s", err);
	}
	free(s);
	free(pool);
	return wrote;
}

static int load_active(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, ct_shift_t *s, char *err,
                       size_t errlen)
{
	int ret = ct_shift_get(txn, pkey, pklen, s);
	if (ret == CT_ENOTFOUND || (ret == CT_EOK && !ct_shift_active(s))) {
		return ct_errf(err, errlen, CT_ENOENT, "no shift is running on this pool");
	}
	return ret;
}

int ct_shift_pause(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms, char *err,
                   size_t errlen)
{
	ct_shift_t *s = malloc(sizeof(*s));
	int ret = s ? load_active(txn, pkey, pklen, s, err, errlen) : CT_ENOMEM;
	if (ret == CT_EOK && s->state == CT_SHIFT_PAUSED) {
		ret = ct_errf(err, errlen, CT_EEXIST, "the shift is already paused");
	}
	if (ret == CT_EOK) {
		s->state = CT_SHIFT_PAUSED;
		s->paused_left_ms = s->next_ms > now_ms ? s->next_ms - now_ms : 0;
		ct_shift_put(txn, pkey, pklen, s);
		ret = txn->ret;
	}
	free(s);
	return ret != CT_EOK && txn->ret == CT_EOK ? (txn->ret = ret) : ret;
}

int ct_shift_resume(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms, char *err,
                    size_t errlen)
{
	ct_shift_t *s = malloc(sizeof(*s));
	int ret = s ? load_active(txn, pkey, pklen, s, err, errlen) : CT_ENOMEM;
	if (ret == CT_EOK && s->state != CT_SHIFT_PAUSED) {
		ret = ct_errf(err, errlen, CT_EINVAL, "the shift is not paused");
	}
	if (ret == CT_EOK) {
		s->state = CT_SHIFT_RUNNING;
		s->next_ms = now_ms + s->paused_left_ms;
		s->paused_left_ms = 0;
		ct_shift_put(txn, pkey, pklen, s);
		ret = txn->ret;
	}
	free(s);
	return ret != CT_EOK && txn->ret == CT_EOK ? (txn->ret = ret) : ret;
}

int ct_shift_abort(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms,
                   const char *actor, char *err, size_t errlen)
{
	ct_shift_t *s = malloc(sizeof(*s));
	int ret = s ? load_active(txn, pkey, pklen, s, err, errlen) : CT_ENOMEM;
	if (ret == CT_EOK) {
		s->state = CT_SHIFT_ABORTED;
		s->ended_ms = now_ms;
		snprintf(s->reason, sizeof(s->reason), "aborted by %s at step %u of %u", actor,
		         s->done, s->nsteps);
		ct_shift_put(txn, pkey, pklen, s);
		ret = txn->ret;
	}
	free(s);
	return ret != CT_EOK && txn->ret == CT_EOK ? (txn->ret = ret) : ret;
}

int ct_shift_rollback(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms,
                      const char *actor, const char *reason, char *err, size_t errlen)
{
	ct_shift_t *s = malloc(sizeof(*s));
	int ret = s ? load_active(txn, pkey, pklen, s, err, errlen) : CT_ENOMEM;
	if (ret == CT_EOK) {
		ret = restore(txn, pkey, pklen, s, now_ms, actor, reason, err, errlen);
	}
	free(s);
	return ret != CT_EOK && txn->ret == CT_EOK ? (txn->ret = ret) : ret;
}
