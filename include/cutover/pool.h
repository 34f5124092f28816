/* SPDX-License-Identifier: MIT */
/* Blue/green pools: the value codec, and the store operations that keep pools, the markers that
 * make pool names exist in the zone, history and the serial consistent. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/store.h"

#define CT_POOL_MAX_GROUPS  16
#define CT_POOL_MAX_TARGETS 64  /* per group */
#define CT_POOL_NAMELEN     63  /* group names and preview prefixes are DNS label text */
#define CT_POOL_DEFAULT_TTL 30
#define CT_POOL_MAX_WEIGHT  1000000
#define CT_POOL_VALUE_MAX   (32 + CT_POOL_NAMELEN + CT_POOL_MAX_GROUPS * (8 + CT_POOL_NAMELEN + 16 * CT_POOL_MAX_TARGETS))

/* First byte of an rrsets value that is not rdata but a reference to a pool (see below). */
#define CT_VALUE_POOLREF 0x81
#define CT_POOLREF_ALL   0xFF /* the pool itself; otherwise the index of a preview group */

enum { CT_POLICY_WEIGHTED = 0, CT_POLICY_STICKY = 1, CT_POLICY_FAILOVER = 2 };

/* Pool flags. */
#define CT_POOL_NO_PREVIEW 0x0001 /* no preview names for this pool */

typedef struct {
	char name[CT_POOL_NAMELEN + 1];
	uint32_t weight;
	uint16_t ntargets;
	uint8_t targets[CT_POOL_MAX_TARGETS][16]; /* 4 bytes used for A pools */
} ct_pool_group_t;

/* A pool as writers handle it (caller-owned; large: keep it off small stacks). */
typedef struct {
	uint16_t type;     /* CT_TYPE_A or CT_TYPE_AAAA */
	uint8_t policy;    /* CT_POLICY_* */
	uint32_t ttl;
	uint16_t answers;  /* most addresses in one answer; 0 = all of the group's */
	uint16_t flags;
	char preview_prefix[CT_POOL_NAMELEN + 1]; /* preview label = prefix + group name */
	uint8_t ngroups;
	ct_pool_group_t groups[CT_POOL_MAX_GROUPS];
} ct_pool_t;

/* A pool read in place from a value (the query path: no copy). Points into the value. */
typedef struct {
	const uint8_t *name;
	uint8_t name_len;
	uint32_t weight;
	uint16_t ntargets;
	const uint8_t *addrs; /* ntargets * addr_len bytes */
} ct_pool_group_view_t;

typedef struct {
	uint16_t type;
	uint8_t policy;
	uint32_t ttl;
	uint16_t answers;
	uint16_t flags;
	uint8_t addr_len; /* 4 or 16 */
	const uint8_t *preview_prefix;
	uint8_t preview_len;
	uint8_t ngroups;
	ct_pool_group_view_t groups[CT_POOL_MAX_GROUPS];
} ct_pool_view_t;

/*
 * pools value: version(1) type(2) policy(1) ttl(4) answers(2) flags(2) preview_len(1) preview
 * ngroups(1), then per group: name_len(1) name weight(4) ntargets(2) addresses; big-endian.
 */
int ct_pool_view_parse(const void *data, size_t len, ct_pool_view_t *view);
int ct_pool_decode(const void *data, size_t len, ct_pool_t *pool);
/* Encode into buf (CT_POOL_VALUE_MAX bytes suffice); returns the length. */
size_t ct_pool_encode(const ct_pool_t *pool, uint8_t *buf);

/*
 * Check a pool on its own (type, policy, TTL, group names, weights up to CT_POOL_MAX_WEIGHT,
 * targets, sizes); message in err.
 */
int ct_pool_check(const ct_pool_t *pool, char *err, size_t errlen);

/* True if s may be a group name or (with empty_ok, empty too) a preview prefix: at most
 * CT_POOL_NAMELEN letters, digits, '-' and '_' (they become DNS label text). */
bool ct_pool_label_ok(const char *s, bool empty_ok);

/* Index of the group with this name (any letter case), or -1. */
int ct_pool_group_find(const ct_pool_t *pool, const char *name);

/*
 * Key of the pool (owner, type) in the pools db (the ct_rr_key layout of its zone) into key
 * (CT_RR_KEY_MAXLEN); CT_ENOZONE with a message when the owner is in no zone we hold.
 */
int ct_pool_key(ct_txn_t *txn, const uint8_t *owner, uint16_t type, uint8_t *key, size_t *klen,
		char *err, size_t errlen);

/* Read a pool; CT_ENOTFOUND if there is none. */
int ct_pool_get(ct_txn_t *txn, const uint8_t *owner, uint16_t type, ct_pool_t *pool);

/*
 * Create or replace the pool at owner in the caller's write transaction: checks it, refuses
 * conflicts (static records of its type or a CNAME at the name, a name that is another pool's
 * preview name, records other than its own or its A/AAAA twin's markers at a preview name, a
 * name at or below a delegation, a wildcard name) with a message in err, writes the pool and
 * its markers, appends to history (actor, action) and bumps the zone serial. An identical pool
 * is left alone and *changed is false. On any error txn->ret is set, so the commit writes
 * nothing.
 */
int ct_pool_put(ct_txn_t *txn, const uint8_t *owner, const ct_pool_t *pool, const char *actor,
		const char *action, bool *changed, char *err, size_t errlen);

/*
 * Delete a pool and its markers, with history (action, NULL: "pool delete") and serial bump;
 * CT_ENOTFOUND with a message if there is none. On any error txn->ret is set.
 */
int ct_pool_delete(ct_txn_t *txn, const uint8_t *owner, uint16_t type, const char *actor,
		   const char *action, char *err, size_t errlen);

/*
 * After a zone import replaced the zone's records: write the markers of the zone's pools
 * again, refusing static records that now conflict with a pool (message in err).
 */
int ct_pool_restore_markers(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len, char *err,
			    size_t errlen);

/* Owner of a pools-db key as a wire name into owner (CT_DNAME_MAXLEN); type out. */
int ct_pool_key_owner(const MDB_val *key, uint8_t *owner, uint16_t *type);
