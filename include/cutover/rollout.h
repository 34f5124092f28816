/* SPDX-License-Identifier: MIT */
/* A pool's shift as the commands show it (the schedule, the pool now, the health of
 * the shifted group and the steps from history), and the guard that keeps manual weight
 * changes from fighting a running shift. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/shift.h"

/* One history entry of the shift: a step or the rollback. */
typedef struct {
	uint64_t seq, time_ms;
	char actor[256];
	char action[256];
	unsigned step;    /* k of "shift step k of n"; 0 for a rollback */
	unsigned percent; /* the group's percent after a step; 0 for a rollback */
	char *summary;    /* "blue=100 green=0 -> blue=90 green=10" (heap) */
} ct_rollout_step_t;

#define CT_ROLLOUT_MAX_LOG (CT_SHIFT_MAX_STEPS + 1)

/* A shift with what goes around it (caller-owned; large: keep it off small stacks). */
typedef struct {
	uint8_t key[CT_RR_KEY_MAXLEN]; /* the pool's key in the pools db */
	size_t klen;
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	ct_shift_t shift;
	bool has_pool;  /* false: the pool is gone */
	ct_pool_t pool; /* the pool as it is now */
	int healthy;    /* healthy targets of the group now; -1 when the group is gone */
	char why[200];  /* the first target of the group that is not healthy, and why */
	int nlog;
	ct_rollout_step_t log[CT_ROLLOUT_MAX_LOG]; /* this shift's entries, oldest first */
} ct_rollout_t;

/*
 * Read the shift of the pool at key (its pools-db key) into r, with the pool, the group's
 * health and the history entries the shift wrote (since it started). CT_ENOTFOUND when the
 * pool never had a shift. Release with ct_rollout_deinit, whatever it returned.
 */
int ct_rollout_load(ct_txn_t *txn, const uint8_t *key, size_t klen, ct_rollout_t *r);
void ct_rollout_deinit(ct_rollout_t *r);

/* "running", "paused", "done", "aborted", "rolled back"; "canary", "linear", "steps". */
const char *ct_rollout_state_name(uint8_t state);
const char *ct_rollout_kind_name(uint8_t kind);

/* The group's percent after the last step applied (0 before any). */
unsigned ct_rollout_percent(const ct_shift_t *s);

/* Unix time in milliseconds (CLOCK_REALTIME, as cutoverd's scheduler). */
uint64_t ct_rollout_now_ms(void);

/* What ct_rollout_guard found. */
enum { CT_ROLLOUT_FREE = 0, CT_ROLLOUT_ABORTED = 1, CT_ROLLOUT_REFUSED = -1 };

/*
 * For manual weight changes (weight, cutover): when the pool at key has an active shift,
 * refuse it (CT_ROLLOUT_REFUSED, msg: which shift, and how to stop it; name is NAME as the
 * operator wrote it), unless force: then abort the shift in txn (ct_shift_abort, by actor;
 * CT_ROLLOUT_ABORTED, msg: "aborted the running shift to green at step 3 of 10" for the
 * report). CT_ROLLOUT_FREE when no shift is active; on a database error txn->ret is set and
 * msg says so.
 */
int ct_rollout_guard(ct_txn_t *txn, const uint8_t *key, size_t klen, const char *name, bool force,
                     const char *actor, char *msg, size_t msglen);
