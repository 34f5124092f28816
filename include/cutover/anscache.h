/* SPDX-License-Identifier: MIT */
/*
 * The answer cache: per worker, the body of each recent response (everything after the
 * question, before OPT) keyed by query name, type and room, and valid for exactly the LMDB
 * snapshot it was built from. Every change (a cutover, a health flip, an import) is a new
 * transaction id, so the very next query after a commit misses and rebuilds: the cache never
 * serves anything the database no longer says.
 *
 * Pool names are cached as a plan: the pool's value and its targets' health at that snapshot,
 * from which each answer still picks its own group (weights, stickiness, rotation). Fixed size,
 * allocated once: nothing is allocated per query.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/dname.h"
#include "cutover/pool.h"
#include "cutover/wire.h"

#define CT_ANSCACHE_SETS  1024 /* by default (8 MiB of entries); a power of two */
#define CT_ANSCACHE_WAYS  16 /* their tags fill one cache line */
#define CT_ANSCACHE_DATA  488  /* name and body (512-byte entries); longer: not cached */
#define CT_ANSCACHE_PLANS 64   /* pool plans, a power of two */
#define CT_ANSCACHE_POOL_VALUE 4096 /* larger pools are answered without the cache */

/* What a pool answer is made from (answer.c): the pool's value, its key, the marker's group
 * reference, the owner name and each target's state. value and pkey point into the database
 * during a lookup and into the cache's own arrays once cached. */
typedef struct {
	const uint8_t *value;
	size_t vlen;
	const uint8_t *pkey;
	size_t pklen;
	uint8_t owner[CT_DNAME_MAXLEN]; /* the name the records are written under */
	uint8_t ref;          /* CT_POOLREF_ALL or a preview group's index */
	uint8_t state[CT_POOL_MAX_GROUPS][CT_POOL_MAX_TARGETS];
	int out;              /* targets not served (ct_health_pool_mask) */
	/* the compression state where the pool's records start */
	uint16_t ncomp;
	uint16_t comp[CT_WIRE_COMP_MAX];
} ct_pool_plan_t;

enum { CT_ANSCACHE_AA = 0x01, CT_ANSCACHE_TC = 0x02 };

/* Cache-line aligned: a short answer (header, name and body within 64 bytes) is one line. */
typedef struct {
	_Alignas(64) uint64_t txnid; /* the snapshot it was built from; 0: empty */
	uint16_t qtype;
	uint16_t room;      /* bytes the body could use: its TC depends on it */
	uint16_t body_len;
	uint16_t counts[3]; /* answer, authority, additional */
	uint8_t name_len;
	uint8_t rcode;
	uint8_t flags;      /* CT_ANSCACHE_AA, CT_ANSCACHE_TC */
	int16_t plan;       /* the pool plan answered after the body, -1: none */
	uint8_t data[CT_ANSCACHE_DATA]; /* the folded query name, then the body */
} ct_anscache_entry_t;

typedef struct {
	uint64_t txnid;
	uint32_t entry; /* the entry it belongs to: a plan slot is reused by whoever needs it */
	ct_pool_plan_t plan;
	uint8_t value[CT_ANSCACHE_POOL_VALUE];
	uint8_t pkey[CT_KEY_MAXLEN];
} ct_anscache_plan_t;

typedef struct ct_anscache {
	uint64_t seed;
	uint32_t turn; /* which way a full set gives up next */
	uint32_t sets; /* a power of two */
	/* each entry's hash (0: empty), a set's in one cache line: a lookup reads the entry it
	 * matches, not every way (the entries are megabytes, mostly outside the CPU's caches) */
	uint32_t *tag;              /* sets x CT_ANSCACHE_WAYS, in the same mapping */
	ct_anscache_entry_t *entry; /* sets x CT_ANSCACHE_WAYS, in the same mapping */
	size_t size;                /* of the mapping */
	ct_anscache_plan_t plans[CT_ANSCACHE_PLANS];
} ct_anscache_t;

/* A cache of sets sets (a power of two; mapped: pages are touched only as entries fill);
 * NULL when out of memory. */
ct_anscache_t *ct_anscache_new(uint64_t seed, unsigned sets);
void ct_anscache_free(ct_anscache_t *c);

/* The hash of a query: name (case-insensitive) and type; never 0. Answers of the same
 * question for other rooms (EDNS sizes) share its set. */
uint32_t ct_anscache_hash(const ct_anscache_t *c, const uint8_t *qname, size_t qname_len,
			  uint16_t qtype);

/* The entry for this query built from snapshot txnid, or NULL; *plan is its pool plan or
 * NULL (an entry whose plan slot was taken by another is no hit). */
const ct_anscache_entry_t *ct_anscache_find(const ct_anscache_t *c, uint32_t hash,
					    const uint8_t *qname, size_t qname_len,
					    uint16_t qtype, size_t room, uint64_t txnid,
					    const ct_pool_plan_t **plan);

/* Start loading, without waiting, the set a hash picks (its tags), and then, once they are
 * in, the entry whose tag it is: a batch's queries wait for memory together, not in turn. */
void ct_anscache_prefetch_set(const ct_anscache_t *c, uint32_t hash);
void ct_anscache_prefetch_entry(const ct_anscache_t *c, uint32_t hash);

/* Remember a response body built from snapshot txnid (and, when plan is not NULL, the pool
 * plan answered after it). Returns false when it does not fit (nothing is stored). */
bool ct_anscache_put(ct_anscache_t *c, uint32_t hash, const uint8_t *qname, size_t qname_len,
		     uint16_t qtype, size_t room, uint64_t txnid, const uint8_t *body,
		     size_t body_len, const uint16_t counts[3], uint8_t rcode, uint8_t flags,
		     const ct_pool_plan_t *plan);
