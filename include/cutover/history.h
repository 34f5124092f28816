/* SPDX-License-Identifier: MIT */
/* The history database: every change to a pool, with who, when, before and after. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/store.h"

/* One entry, read in place (pointers into the value; valid while the transaction lives). */
typedef struct {
	uint64_t seq;
	uint64_t time_ms;       /* Unix time in milliseconds */
	const char *actor;
	size_t actor_len;
	const uint8_t *object;  /* the pools-db key of the pool */
	size_t object_len;
	const char *action;     /* e.g. "pool set", "weight blue=90 green=10", "rollback" */
	size_t action_len;
	const uint8_t *before;  /* pool value before; empty when it was created */
	size_t before_len;
	const uint8_t *after;   /* pool value after; empty when it was deleted */
	size_t after_len;
} ct_history_t;

/* Append an entry with the next sequence number and the current time. */
void ct_history_append(ct_txn_t *txn, const char *actor, const uint8_t *object, size_t object_len,
		       const char *action, const void *before, size_t before_len, const void *after,
		       size_t after_len);

/* Decode the entry at key/val; CT_EDBCORRUPT when it does not add up. */
int ct_history_parse(const MDB_val *key, const MDB_val *val, ct_history_t *h);

/* The newest entry for object (any object when object is NULL); true if found. */
bool ct_history_last(ct_txn_t *txn, const uint8_t *object, size_t object_len, ct_history_t *h);

/* Walk entries newest first; cb returns false to stop. Object NULL: all objects. */
int ct_history_foreach(ct_txn_t *txn, const uint8_t *object, size_t object_len,
		       bool (*cb)(const ct_history_t *h, void *arg), void *arg);
