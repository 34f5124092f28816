/* SPDX-License-Identifier: MIT */
/* Answering one query from the store into a response buffer: the authoritative lookup. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cutover/select.h"
#include "cutover/store.h"

#define CT_EDNS_MAX_UDP 1232 /* our advertised and largest UDP payload (DNS flag day 2020) */
#define CT_MAX_CNAME_HOPS 8

/* Per-worker answering state: owns the long-lived read transaction. */
typedef struct {
	ct_store_t *store;
	ct_txn_t txn;
	ct_rng_t rng;      /* weighted picks */
	uint32_t rotate;   /* rotation of pool targets, per answer */
	uint64_t queries, dropped, db_errors;
	uint64_t fail_open; /* pool answers given with every target down */
	long log_last; /* rate limit for per-packet error logs */
} ct_answer_ctx_t;

/* Set up a worker's context (opens its reader). The store must outlive it. */
int ct_answer_init(ct_answer_ctx_t *ctx, ct_store_t *store);
void ct_answer_deinit(ct_answer_ctx_t *ctx);

/*
 * Answer the query pkt[0..len) received over UDP (tcp false) or TCP from src (may be NULL).
 * Writes the response into resp (cap bytes; at least 512, and 65535 for TCP answers to be
 * complete) and returns its length, or 0 when no reply must be sent. Never allocates.
 */
size_t ct_answer(ct_answer_ctx_t *ctx, const uint8_t *pkt, size_t len, bool tcp,
		 const struct sockaddr *src, uint8_t *resp, size_t cap);
