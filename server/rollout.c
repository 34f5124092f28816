/* SPDX-License-Identifier: MIT */
/* Reading a pool's shift with its steps from history; the manual-change guard. */
#include "cutover/rollout.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = { "?",    "running", "paused",
	                                   "done", "aborted", "rolled back" };
static const char *const kind_names[] = { "?", "canary", "linear", "steps" };

const char *ct_rollout_state_name(uint8_t state)
{
	return state <= CT_SHIFT_ROLLED_BACK ? state_names[state] : "?";
}

const char *ct_rollout_kind_name(uint8_t kind)
{
	return kind <= CT_SHIFT_STEPS ? kind_names[kind] : "?";
}

unsigned ct_rollout_percent(const ct_shift_t *s)
{
	return s->done > 0 && s->done <= s->nsteps ? s->steps[s->done - 1] : 0;
}

uint64_t ct_rollout_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The history walk of ct_rollout_load: newest first, the shift's entries until its step 1. */
typedef struct {
	ct_rollout_t *r;
	ct_pool_t *pools; /* two, to decode before and after */
	int ret;
} walk_t;

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

static bool take_entry(const ct_history_t *h, void *arg)
{
	walk_t *w = arg;
	ct_rollout_t *r = w->r;
	if (h->time_ms < r->shift.started_ms || r->nlog == CT_ROLLOUT_MAX_LOG) {
		return false; /* older than this shift */
	}
	bool step = starts_with(h->action, h->action_len, "shift step ");
	if (!step && !starts_with(h->action, h->action_len, "shift rollback")) {
		return true; /* not the shift's: a pool set, say */
	}
	ct_rollout_step_t *e = &r->log[r->nlog];
	memset(e, 0, sizeof(*e));
	e->seq = h->seq;
	e->time_ms = h->time_ms;
	snprintf(e->actor, sizeof(e->actor), "%.*s", (int)h->actor_len, h->actor);
	snprintf(e->action, sizeof(e->action), "%.*s", (int)h->action_len, h->action);
	unsigned n = 0;
	if (step && sscanf(e->action, "shift step %u of %u", &e->step, &n) == 2 && e->step >= 1 &&
	    e->step <= r->shift.nsteps) {
		e->percent = r->shift.steps[e->step - 1];
	}
	bool bad =
	    (h->before_len > 0 &&
	     ct_pool_decode(h->before, h->before_len, &w->pools[0]) != CT_EOK) ||
	    (h->after_len > 0 && ct_pool_decode(h->after, h->after_len, &w->pools[1]) != CT_EOK);
	size_t slen = 0;
	FILE *s = bad ? NULL : open_memstream(&e->summary, &slen);
	if (s == NULL) {
		w->ret = bad ? CT_EDBCORRUPT : CT_ENOMEM;
		return false;
	}
	ct_pooltext_change(s, h->before_len > 0 ? &w->pools[0] : NULL,
	                   h->after_len > 0 ? &w->pools[1] : NULL);
	fclose(s);
	r->nlog++;
	return !(step && e->step == 1); /* the shift's first entry */
}

int ct_rollout_load(ct_txn_t *txn, const uint8_t *key, size_t klen, ct_rollout_t *r)
{
	MDB_val k = { klen, (void *)key };
	r->nlog = 0;
	r->has_pool = false;
	r->healthy = -1;
	r->why[0] = '\0';
	if (klen > sizeof(r->key) || ct_pool_key_owner(&k, r->owner, &r->type) != CT_EOK) {
		return CT_EDBCORRUPT;
	}
	memcpy(r->key, key, klen);
	r->klen = klen;
	int ret = ct_shift_get(txn, key, klen, &r->shift);
	if (ret != CT_EOK) {
		return ret;
	}
	MDB_val v;
	if (ct_txn_get(txn, txn->store->pools, key, klen, &v)) {
		if (ct_pool_decode(v.mv_data, v.mv_size, &r->pool) != CT_EOK) {
			return CT_EDBCORRUPT;
		}
		r->has_pool = true;
		int g = ct_pool_group_find(&r->pool, r->shift.group);
		if (g >= 0) {
			r->healthy =
			    ct_shift_healthy(txn, key, klen, &r->pool, g, r->why, sizeof(r->why));
		}
	}
	walk_t w = { .r = r, .pools = malloc(2 * sizeof(ct_pool_t)) };
	if (w.pools == NULL) {
		return CT_ENOMEM;
	}
	ct_history_foreach(txn, key, klen, take_entry, &w);
	free(w.pools);
	for (int i = 0; i < r->nlog / 2; i++) { /* oldest first */
		ct_rollout_step_t e = r->log[i];
		r->log[i] = r->log[r->nlog - 1 - i];
		r->log[r->nlog - 1 - i] = e;
	}
	return w.ret != CT_EOK ? w.ret : txn->ret;
}

void ct_rollout_deinit(ct_rollout_t *r)
{
	for (int i = 0; i < r->nlog; i++) {
		free(r->log[i].summary);
		r->log[i].summary = NULL;
	}
	r->nlog = 0;
}

int ct_rollout_guard(ct_txn_t *txn, const uint8_t *key, size_t klen, const char *name, bool force,
                     const char *actor, char *msg, size_t msglen)
{
	ct_shift_t *s = malloc(sizeof(*s));
	char err[256] = "";
	int ret = s != NULL ? ct_shift_get(txn, key, klen, s) : CT_ENOMEM;
	int found = CT_ROLLOUT_FREE;
	msg[0] = '\0';
	if (ret == CT_EOK && ct_shift_active(s) && !force) {
		snprintf(msg, msglen,
		         "a shift to %s is %s (%s, step %u of %u, %s at %u %%); stop it first: "
		         "'cutoverctl shift abort %s' leaves the weights where they are, "
		         "'cutoverctl rollback %s' restores those from before the shift; or give "
		         "--force to abort it and go ahead",
		         s->group, ct_rollout_state_name(s->state), ct_rollout_kind_name(s->kind),
		         s->done, s->nsteps, s->group, ct_rollout_percent(s), name, name);
		found = CT_ROLLOUT_REFUSED;
	} else if (ret == CT_EOK && ct_shift_active(s)) {
		ret = ct_shift_abort(txn, key, klen, ct_rollout_now_ms(), actor, err, sizeof(err));
		snprintf(msg, msglen, "aborted the %s shift to %s at step %u of %u",
		         ct_rollout_state_name(s->state), s->group, s->done, s->nsteps);
		found = ret == CT_EOK ? CT_ROLLOUT_ABORTED : CT_ROLLOUT_REFUSED;
	} else if (ret == CT_ENOTFOUND) {
		ret = CT_EOK;
	}
	if (ret != CT_EOK) {
		snprintf(msg, msglen, "cannot read or end its shift: %s",
		         err[0] != '\0' ? err : ct_strerror(ret));
		found = CT_ROLLOUT_REFUSED;
		if (txn->ret == CT_EOK) {
			txn->ret = ret;
		}
	}
	free(s);
	return found;
}
