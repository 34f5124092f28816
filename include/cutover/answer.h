/* SPDX-License-Identifier: MIT */
/* Answering one query from the store into a response buffer: the authoritative lookup. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cutover/chaos.h"
#include "cutover/select.h"
#include "cutover/store.h"

#define CT_EDNS_MAX_UDP 1232 /* our advertised and largest UDP payload (DNS flag day 2020) */
#define CT_MAX_CNAME_HOPS 8

/*
 * Counters. Each is written by one thread only (the worker owning the context) and read by
 * others (cutoverd's HTTP endpoint): a relaxed load and store, never a locked read-modify-write,
 * so counting costs the query path a plain increment.
 */
typedef _Atomic uint64_t ct_counter_t;

static inline void ct_counter_inc(ct_counter_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

static inline uint64_t ct_counter_get(ct_counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Responses by protocol, query type and RCODE: the types and RCODEs counted by name. */
enum { CT_STAT_UDP = 0, CT_STAT_TCP = 1, CT_STAT_PROTOS = 2 };
#define CT_STAT_QTYPES 20 /* see ct_answer_stat_qtype_name; the last is "other" */
#define CT_STAT_RCODES 8  /* NOERROR..REFUSED, BADVERS, other */

/* The bucket of a query type (0: no question) and of an RCODE. */
int ct_answer_stat_qtype(uint16_t qtype);
int ct_answer_stat_rcode(int rcode);
/* Name of a query type or RCODE bucket ("A", "none", "other"; "NOERROR", "BADVERS"); static. */
const char *ct_answer_stat_qtype_name(int bucket);
const char *ct_answer_stat_rcode_name(int bucket);

/*
 * Pool answers by (pool, group), per worker: an open-addressing table filled on the query path
 * without allocation (names go to a fixed arena). A slot is published with a release store of
 * `used`; a reader that loads `used` with acquire may then read the key and the name.
 */
#define CT_POOLSTAT_SLOTS 1024 /* a power of two; filled to 3/4 at most */
#define CT_POOLSTAT_ARENA (64 * 1024)

typedef struct {
	_Atomic uint32_t used;
	uint32_t hash;
	uint32_t off; /* in the arena: the pools-db key, then the group name */
	uint16_t klen;
	uint8_t glen;
	ct_counter_t answers;   /* answers from this group under the pool's name */
	ct_counter_t previews;  /* answers under the group's preview name */
	ct_counter_t fail_open; /* of the answers, those given with every target down */
} ct_poolstat_t;

typedef struct {
	ct_poolstat_t slot[CT_POOLSTAT_SLOTS];
	uint8_t arena[CT_POOLSTAT_ARENA];
	uint32_t arena_used; /* the writer's own bookkeeping */
	uint32_t nslots;
	ct_counter_t uncounted; /* pool answers not counted by pool: the table was full */
} ct_poolstats_t;

/* Per-worker answering state: owns the long-lived read transaction and its counters. */
typedef struct {
	ct_store_t *store;
	ct_txn_t txn;
	ct_rng_t rng;      /* weighted picks */
	uint32_t rotate;   /* rotation of pool targets, per answer */
	ct_counter_t queries, dropped, db_errors;
	ct_counter_t fail_open; /* pool answers given with every target down */
	ct_counter_t responses[CT_STAT_PROTOS][CT_STAT_QTYPES][CT_STAT_RCODES];
	ct_poolstats_t *pools; /* owned; allocated by ct_answer_init */
	long log_last; /* rate limit for per-packet error logs */
	struct ct_anscache *cache; /* owned; NULL: answers are not cached */
	const ct_chaos_t *chaos;   /* CH TXT texts, the caller's; NULL: CH is REFUSED */
	ct_counter_t cache_hits, cache_misses;
	/* between ct_answer_batch_begin and _end: the reader renewed once for the batch */
	bool batch;
	int batch_ret;
	uint64_t batch_txnid;
	/* ct_answer_prefetch's token for the datagram the next ct_answer answers (its cache hash,
	 * not computed twice); 0: none. Used once. */
	uint32_t token;
} ct_answer_ctx_t;

/* Set up a worker's context (opens its reader, allocates its counters and its answer cache).
 * The store must outlive it. */
int ct_answer_init(ct_answer_ctx_t *ctx, ct_store_t *store);
/* A smaller (or larger) answer cache: sets sets of CT_ANSCACHE_WAYS (a power of two). */
int ct_answer_cache_sets(ct_answer_ctx_t *ctx, unsigned sets);
/* Answer every query from the database itself, without the answer cache. */
void ct_answer_cache_off(ct_answer_ctx_t *ctx);
void ct_answer_deinit(ct_answer_ctx_t *ctx);

/*
 * Answer the query pkt[0..len) received over UDP (tcp false) or TCP from src (may be NULL).
 * Writes the response into resp (cap bytes; at least 512, and 65535 for TCP answers to be
 * complete) and returns its length, or 0 when no reply must be sent. Never allocates.
 */
size_t ct_answer(ct_answer_ctx_t *ctx, const uint8_t *pkt, size_t len, bool tcp,
		 const struct sockaddr *src, uint8_t *resp, size_t cap);

/*
 * Answer several queries from one snapshot: the reader is renewed once at begin and reset at
 * end, and every ct_answer in between uses it (a batch of datagrams received together). A
 * commit becomes visible with the next batch.
 */
void ct_answer_batch_begin(ct_answer_ctx_t *ctx);
void ct_answer_batch_end(ct_answer_ctx_t *ctx);

/*
 * Before a batch is answered: ct_answer_prefetch starts loading the cache set of each
 * datagram's question and returns a token for it (0: nothing to fetch); then
 * ct_answer_prefetch_entry with each token reads the set's tags and starts loading the entry.
 * Only hints: they change no answer, and cost a few loads that would come anyway.
 */
uint32_t ct_answer_prefetch(const ct_answer_ctx_t *ctx, const uint8_t *pkt, size_t len);
void ct_answer_prefetch_entry(const ct_answer_ctx_t *ctx, uint32_t token);
