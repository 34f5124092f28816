/* SPDX-License-Identifier: MIT */
/* The health of a pool's targets as the database holds it (the records cutoverd's
 * prober and 'drain' write), and what cutoverd answers from it (server/answer.c). */
#pragma once

#include <stdio.h>

#include "cutover/health.h"
#include "cutover/pool.h"

/* What cutoverd answers for a pool now. */
enum {
	CT_POOLHEALTH_LIVE,     /* some target serves: answers hold serving targets only */
	CT_POOLHEALTH_FAILOPEN, /* no target is healthy: answered as if they were up */
	CT_POOLHEALTH_NODATA,   /* no target is healthy, and all-down nodata */
	CT_POOLHEALTH_EMPTY,    /* the pool has no targets at all */
};

/* The health of one pool's targets (caller-owned; large: keep it off small stacks). */
typedef struct {
	ct_health_t target[CT_POOL_MAX_GROUPS][CT_POOL_MAX_TARGETS]; /* no record: zeroed */
	bool recorded[CT_POOL_MAX_GROUPS][CT_POOL_MAX_TARGETS];      /* a record exists */
	int healthy[CT_POOL_MAX_GROUPS]; /* each group's targets that serve: not down, not drained
	                                  */
	int targets, serving;            /* over every group */
	int mode;                        /* CT_POOLHEALTH_* */
} ct_poolhealth_t;

/*
 * Read the record of every target of pool (stored under the pools-db key pkey) in txn. A
 * target without a record is unknown (never checked), which counts as healthy. Returns CT_EOK,
 * or the transaction's error (CT_EDBCORRUPT for a record that cannot be read).
 */
int ct_poolhealth_read(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_pool_t *pool,
                       ct_poolhealth_t *ph);

/* Count ph's totals and mode again after its records were changed in place. */
void ct_poolhealth_count(const ct_pool_t *pool, ct_poolhealth_t *ph);

/* "up", "down" or "unknown" (static storage). */
const char *ct_poolhealth_state_name(uint8_t state);

/* "live-targets", "fail-open", "nodata" or "no-targets" (static storage; the JSON values). */
const char *ct_poolhealth_mode_name(int mode);

/* What cutoverd does in mode, as a sentence for people; NULL for CT_POOLHEALTH_LIVE. */
const char *ct_poolhealth_mode_text(int mode);

/*
 * Why the targets of group g that do not serve are out, on out: "198.51.100.10 down since
 * 2026-11-27T10:00:00Z (connect: Connection refused), 198.51.100.11 drained".
 */
void ct_poolhealth_why(FILE *out, const ct_pool_t *pool, const ct_poolhealth_t *ph, int g);

/* True if addr (4 or 16 bytes, as the pool's type) is a target of one of pool's groups. */
bool ct_poolhealth_is_target(const ct_pool_t *pool, const uint8_t *addr);

/*
 * After pool (stored under pkey) was written in txn: drop the health records of addresses that
 * are no longer its targets (their drains go with them), and when the pool has no check,
 * forget what the prober found for the others (a drain is kept): a state left from a removed
 * check would keep a target out of the answers for good. created: the pool is new, so every
 * record under its key is a leftover (of a pool deleted with its zone) and goes. Returns
 * txn->ret.
 */
int ct_poolhealth_sync(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_pool_t *pool,
                       bool created);
