/* SPDX-License-Identifier: MIT */
/* Gradual shifts (canary, linear, explicit steps) kept in the schedules database: the codec,
 * and the transactions that start, step, pause, resume, abort and roll back a shift. The CLI
 * starts shifts (applying the first step at once); cutoverd's prober thread applies the rest
 * and rolls back automatically when the new group's health falls below the gate. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/pool.h"
#include "cutover/store.h"

#define CT_SHIFT_MAX_STEPS 100

enum { CT_SHIFT_CANARY = 1, CT_SHIFT_LINEAR = 2, CT_SHIFT_STEPS = 3 };
enum {
	CT_SHIFT_RUNNING = 1,
	CT_SHIFT_PAUSED = 2,
	CT_SHIFT_DONE = 3,       /* reached its last step */
	CT_SHIFT_ABORTED = 4,    /* stopped where it was by an operator */
	CT_SHIFT_ROLLED_BACK = 5 /* pre-shift weights restored (by an operator or the gate) */
};
enum { CT_ROLLBACK_ON_UNHEALTHY = 0, CT_ROLLBACK_ON_NONE = 1 };

typedef struct {
	uint8_t state;          /* CT_SHIFT_RUNNING … */
	uint8_t kind;           /* CT_SHIFT_CANARY … */
	char group[CT_POOL_NAMELEN + 1];
	uint8_t nsteps;
	uint8_t steps[CT_SHIFT_MAX_STEPS]; /* percent of traffic for the group, the last is 100 */
	uint8_t done;           /* steps applied so far (the first at start) */
	uint32_t every_ms;      /* between steps (canary: the wait before 100 %) */
	uint64_t started_ms, next_ms, ended_ms; /* next_ms: when the next step is due */
	uint64_t paused_left_ms; /* while paused: what was left of the wait */
	uint16_t min_healthy;   /* gate: healthy targets the group needs (default 1) */
	uint8_t rollback_on;    /* CT_ROLLBACK_ON_* */
	char actor[256];
	char reason[256];       /* why it ended (or "" while running) */
	uint8_t before[CT_POOL_VALUE_MAX]; /* the pool value before the shift */
	size_t before_len;
} ct_shift_t;

/* value: version(1) state kind group(len+text) nsteps steps… done every(4) started(8) next(8)
 * ended(8) paused_left(8) min_healthy(2) rollback_on(1) actor(len+text) reason(len+text)
 * before(len4+bytes). Key: the pool's key in the pools db. */
int ct_shift_parse(const MDB_val *val, ct_shift_t *s);
/* Encode into a malloc'ed buffer (*out, caller frees); returns the length or 0. */
size_t ct_shift_encode(const ct_shift_t *s, uint8_t **out);

/* Read the shift of a pool (by its pools key); CT_ENOTFOUND when there is none. */
int ct_shift_get(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, ct_shift_t *s);
void ct_shift_put(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_shift_t *s);

/* True for a shift that still moves traffic or may again (running or paused). */
static inline bool ct_shift_active(const ct_shift_t *s)
{
	return s->state == CT_SHIFT_RUNNING || s->state == CT_SHIFT_PAUSED;
}

/*
 * Weights for "group gets pct % of the traffic": the group gets pct, the others share
 * 100 - pct in proportion to their weights before the shift (equally if those were all 0),
 * rounded so that the total is exactly 100.
 */
void ct_shift_weights(ct_pool_t *pool, int group, unsigned pct, const ct_pool_t *before);

/* Healthy targets of a group (not drained, not down; never checked counts as healthy); the
 * first unhealthy target's address text and last error go to why (may be NULL). */
int ct_shift_healthy(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, const ct_pool_t *pool,
		     int group, char *why, size_t whylen);

/*
 * Start a shift on the pool at (owner, type): checks that none is active, records the pool
 * as it is, applies the first step at once and stores the schedule. s holds kind, group,
 * steps, every_ms, min_healthy, rollback_on and actor; the rest is filled in.
 */
int ct_shift_start(ct_txn_t *txn, const uint8_t *owner, uint16_t type, ct_shift_t *s,
		   uint64_t now_ms, char *err, size_t errlen);

/*
 * The daemon's tick for one schedule (key = pools key): rolls back when the gate fails and
 * rollback_on is unhealthy (running or paused), applies the next step when due (one step per call: a step whose
 * time passed while the daemon was down is applied once, then the schedule continues from
 * now). Returns true when it wrote something; what happened goes to log.
 */
bool ct_shift_tick(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms, char *log,
		   size_t loglen);

/* Operator actions on an active shift. */
int ct_shift_pause(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms, char *err,
		   size_t errlen);
int ct_shift_resume(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms,
		    char *err, size_t errlen);
int ct_shift_abort(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms,
		   const char *actor, char *err, size_t errlen);
/* Stop the shift and restore the pool's pre-shift weights (one transaction, in history). */
int ct_shift_rollback(ct_txn_t *txn, const uint8_t *pkey, size_t pklen, uint64_t now_ms,
		      const char *actor, const char *reason, char *err, size_t errlen);
