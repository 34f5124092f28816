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
#define CT_POOL_VALUE_MAX   (32 + CT_POOL_NAMELEN + CT_POOL_MAX_GROUPS * (8 + CT_POOL_NAMELEN + 16 * CT_POOL_MAX_TARGETS) + 32 + 3 * (CT_CHECK_TEXTLEN + 1))

/* First byte of an rrsets value that is not rdata but a reference to a pool (see below). */
#define CT_VALUE_POOLREF 0x81
#define CT_POOLREF_ALL   0xFF /* the pool itself; otherwise the index of a preview group */

enum { CT_POLICY_WEIGHTED = 0, CT_POLICY_STICKY = 1, CT_POLICY_FAILOVER = 2 };

/* Pool flags. */
#define CT_POOL_NO_PREVIEW     0x0001 /* no preview names for this pool */
#define CT_POOL_ALLDOWN_NODATA 0x0002 /* every target down: NODATA, not fail-open */

/* Health checks run by cutoverd's prober for every target of the pool. */
enum { CT_CHECK_NONE = 0, CT_CHECK_TCP = 1, CT_CHECK_HTTP = 2, CT_CHECK_HTTPS = 3 };
#define CT_CHECK_TEXTLEN          255
#define CT_CHECK_DEFAULT_INTERVAL 1000 /* ms */
#define CT_CHECK_MIN_INTERVAL     100  /* ms */
#define CT_CHECK_DEFAULT_TIMEOUT  1000 /* ms, never above the interval */
#define CT_CHECK_DEFAULT_RISE     2
#define CT_CHECK_DEFAULT_FALL     3

typedef struct {
	uint8_t kind;            /* CT_CHECK_* */
	uint16_t port;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint8_t rise, fall;      /* successes to come back up, failures to go down */
	uint16_t status_min, status_max; /* HTTP(S): accepted status (default 200-399) */
	bool insecure;           /* HTTPS: no certificate verification */
	char path[CT_CHECK_TEXTLEN + 1];   /* HTTP(S) path, "/" by default */
	char host[CT_CHECK_TEXTLEN + 1];   /* Host header and TLS name; "" = the address */
	char expect[CT_CHECK_TEXTLEN + 1]; /* body substring; "" = none */
} ct_pool_check_t;

/* Fill a check with the defaults of its kind (port and path left for the caller). */
void ct_pool_check_defaults(ct_pool_check_t *check, uint8_t kind);

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
	ct_pool_check_t check;
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
	const uint8_t *check; /* the encoded check (see ct_pool_check_parse); NULL: none */
	size_t check_len;
} ct_pool_view_t;

/*
 * pools value: version(1) type(2) policy(1) ttl(4) answers(2) flags(2) preview_len(1) preview
 * ngroups(1), then per group: name_len(1) name weight(4) ntargets(2) addresses; then, when the
 * pool has a health check: kind(1) port(2) interval(4) timeout(4) rise(1) fall(1)
 * status_min(2) status_max(2) check_flags(1) and path, host, expect each as len(1) text.
 * Big-endian.
 */
int ct_pool_view_parse(const void *data, size_t len, ct_pool_view_t *view);
int ct_pool_decode(const void *data, size_t len, ct_pool_t *pool);
/* Decode a view's check into check (kind CT_CHECK_NONE when it has none). */
int ct_pool_check_parse(const ct_pool_view_t *view, ct_pool_check_t *check);
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

/* The zone's apex of a pools-db key into apex (CT_DNAME_MAXLEN); CT_EDBCORRUPT if it is bad. */
int ct_pool_key_zone(const MDB_val *key, uint8_t *apex);
