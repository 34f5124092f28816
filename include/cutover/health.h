/* SPDX-License-Identifier: MIT */
/* The health database: per pool target, its state from the prober and the operator's drain. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/pool.h"
#include "cutover/store.h"

enum { CT_HEALTH_UNKNOWN = 0, CT_HEALTH_UP = 1, CT_HEALTH_DOWN = 2 };

#define CT_HEALTH_ERRLEN  160
#define CT_HEALTH_KEY_MAX (CT_RR_KEY_MAXLEN + 16)

/* One target's record. Never checked counts as up (UNKNOWN). */
typedef struct {
	uint8_t state;        /* CT_HEALTH_* */
	bool drained;         /* forced out of answers by an operator */
	uint64_t since_ms;    /* state held since (Unix ms) */
	uint64_t last_ms;     /* last check (Unix ms); 0: never */
	bool last_ok;
	uint16_t ok_run;      /* consecutive successes */
	uint16_t fail_run;    /* consecutive failures */
	uint32_t latency_us;  /* of the last check */
	char error[CT_HEALTH_ERRLEN]; /* last error, "" after a success */
} ct_health_t;

/* Key: the pools-db key of the pool followed by the target's address (4 or 16 bytes). */
size_t ct_health_key(uint8_t *out, const uint8_t *pool_key, size_t pool_len, const uint8_t *addr,
		     size_t addr_len);

int ct_health_parse(const MDB_val *val, ct_health_t *h);
/* Encode into buf (64 + CT_HEALTH_ERRLEN bytes suffice); returns the length. */
size_t ct_health_encode(const ct_health_t *h, uint8_t *buf);

/* Read a target's record; false (and *h zeroed: unknown, not drained) when there is none. */
bool ct_health_get(ct_txn_t *txn, const uint8_t *pool_key, size_t pool_len, const uint8_t *addr,
		   size_t addr_len, ct_health_t *h);
void ct_health_put(ct_txn_t *txn, const uint8_t *pool_key, size_t pool_len, const uint8_t *addr,
		   size_t addr_len, const ct_health_t *h);

/* True if the target may be answered: not drained and not down. */
static inline bool ct_health_serves(const ct_health_t *h)
{
	return !h->drained && h->state != CT_HEALTH_DOWN;
}

/* What the answer path may do with a target. */
enum { CT_TARGET_SERVE = 0, CT_TARGET_DOWN = 1, CT_TARGET_DRAINED = 2 };

/*
 * For the answer path: out[g][t] = CT_TARGET_* for target t of group g, reading every health
 * record of the pool in one prefix walk (no record: serve). Returns how many are not served.
 */
int ct_health_pool_mask(ct_txn_t *txn, const uint8_t *pool_key, size_t pool_len,
			const ct_pool_view_t *pool, uint8_t out[][CT_POOL_MAX_TARGETS]);
