/* SPDX-License-Identifier: MIT */
/* Reading the health of a pool's targets, and saying what follows from it. */
#include "cutover/poolhealth.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"

#include <stdlib.h>
#include <string.h>

int ct_poolhealth_read(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_pool_t *pool,
                       ct_poolhealth_t *ph)
{
	size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4;
	memset(ph, 0, sizeof(*ph));
	for (int g = 0; g < pool->ngroups && txn->ret == CT_EOK; g++) {
		for (int t = 0; t < pool->groups[g].ntargets && txn->ret == CT_EOK; t++) {
			ph->recorded[g][t] = ct_health_get(
			    txn, pkey, pklen, pool->groups[g].targets[t], alen, &ph->target[g][t]);
		}
	}
	ct_poolhealth_count(pool, ph);
	return txn->ret;
}

void ct_poolhealth_count(const ct_pool_t *pool, ct_poolhealth_t *ph)
{
	ph->targets = ph->serving = 0;
	for (int g = 0; g < pool->ngroups; g++) {
		ph->healthy[g] = 0;
		for (int t = 0; t < pool->groups[g].ntargets; t++) {
			ph->healthy[g] += ct_health_serves(&ph->target[g][t]);
		}
		ph->targets += pool->groups[g].ntargets;
		ph->serving += ph->healthy[g];
	}
	/* as server/answer.c: no serving target left makes the pool fail open, or NODATA */
	ph->mode = ph->targets == 0                       ? CT_POOLHEALTH_EMPTY
	           : ph->serving > 0                      ? CT_POOLHEALTH_LIVE
	           : pool->flags & CT_POOL_ALLDOWN_NODATA ? CT_POOLHEALTH_NODATA
	                                                  : CT_POOLHEALTH_FAILOPEN;
}

const char *ct_poolhealth_state_name(uint8_t state)
{
	return state == CT_HEALTH_UP ? "up" : state == CT_HEALTH_DOWN ? "down" : "unknown";
}

const char *ct_poolhealth_mode_name(int mode)
{
	static const char *const names[] = { "live-targets", "fail-open", "nodata", "no-targets" };
	return mode >= 0 && mode <= CT_POOLHEALTH_EMPTY ? names[mode] : "?";
}

const char *ct_poolhealth_mode_text(int mode)
{
	switch (mode) {
	case CT_POOLHEALTH_FAILOPEN:
		return "no target is healthy: cutoverd fails open and answers as if they were up "
		       "(all-down serve-all)";
	case CT_POOLHEALTH_NODATA:
		return "no target is healthy: cutoverd answers NODATA (all-down nodata)";
	case CT_POOLHEALTH_EMPTY:
		return "no group has targets: cutoverd answers NODATA";
	default:
		return NULL;
	}
}

void ct_poolhealth_why(FILE *out, const ct_pool_t *pool, const ct_poolhealth_t *ph, int g)
{
	char addr[CT_POOLTEXT_ADDRLEN], when[CT_POOLTEXT_TIMELEN];
	const char *sep = "";
	for (int t = 0; t < pool->groups[g].ntargets; t++) {
		const ct_health_t *h = &ph->target[g][t];
		if (ct_health_serves(h)) {
			continue;
		}
		fprintf(out, "%s%s", sep,
		        ct_pooltext_addr_str(pool->type, pool->groups[g].targets[t], addr));
		sep = ", ";
		if (h->state == CT_HEALTH_DOWN) {
			fprintf(out, " down since %s", ct_pooltext_time(h->since_ms, when));
			if (h->error[0] != '\0') {
				fprintf(out, " (%s)", h->error);
			}
		}
		if (h->drained) {
			fprintf(out, "%s drained", h->state == CT_HEALTH_DOWN ? " and" : "");
		}
	}
}

bool ct_poolhealth_is_target(const ct_pool_t *pool, const uint8_t *addr)
{
	size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4;
	for (int g = 0; g < pool->ngroups; g++) {
		for (int t = 0; t < pool->groups[g].ntargets; t++) {
			if (memcmp(pool->groups[g].targets[t], addr, alen) == 0) {
				return true;
			}
		}
	}
	return false;
}

int ct_poolhealth_sync(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_pool_t *pool,
                       bool created)
{
	size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4, n = 0, cap = 0;
	struct fix {
		uint8_t addr[16];
		bool drained; /* rewrite as a bare drain; else delete */
	} *fix = NULL;
	MDB_val k, v;
	/* first collect, then write: no writes under the walking cursor */
	for (bool f = ct_txn_seek(txn, txn->store->health, pkey, pklen, &k, &v);
	     f && ct_key_has_prefix(&k, pkey, pklen);
	     f = ct_txn_next(txn, txn->store->health, &k, &v)) {
		const uint8_t *addr = (const uint8_t *)k.mv_data + pklen;
		ct_health_t h;
		if (k.mv_size != pklen + alen) {
			continue; /* not a record of this pool */
		}
		if (ct_health_parse(&v, &h) != CT_EOK) {
			memset(&h, 0, sizeof(h)); /* unreadable: replaced below */
			h.state = CT_HEALTH_DOWN;
		}
		bool target = !created && ct_poolhealth_is_target(pool, addr);
		bool stale = pool->check.kind == CT_CHECK_NONE &&
		             (h.state != CT_HEALTH_UNKNOWN || h.last_ms != 0 || h.ok_run != 0 ||
		              h.fail_run != 0 || h.error[0] != '\0');
		if (target && !stale) {
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct fix *nf = realloc(fix, cap * sizeof(*nf));
			if (nf == NULL) {
				free(fix);
				return txn->ret = CT_ENOMEM;
			}
			fix = nf;
		}
		memcpy(fix[n].addr, addr, alen);
		fix[n++].drained = target && h.drained;
	}
	for (size_t i = 0; i < n && txn->ret == CT_EOK; i++) {
		if (fix[i].drained) {
			ct_health_t h = { .drained = true };
			ct_health_put(txn, pkey, pklen, fix[i].addr, alen, &h);
		} else {
			uint8_t key[CT_HEALTH_KEY_MAX];
			ct_txn_del(txn, txn->store->health, key,
			           ct_health_key(key, pkey, pklen, fix[i].addr, alen));
		}
	}
	free(fix);
	return txn->ret;
}
