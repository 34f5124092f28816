/* SPDX-License-Identifier: MIT */
/* The LMDB store: environment, named databases, transactions with a sticky error, key layout. */
#pragma once

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutover/dname.h"

#define CT_STORE_DEFAULT_MAPSIZE ((size_t)1 << 30) /* 1 GiB */
#define CT_SCHEMA_VERSION        1
#define CT_VALUE_VERSION         1 /* first byte of every value */
#define CT_STORE_DBS             7
#define CT_DEFAULT_DB            "/var/lib/cutover"

typedef struct {
	size_t map_size;      /* 0: the largest size the database was written with, at least
	                         CT_STORE_DEFAULT_MAPSIZE (so a --map-size once raised stays) */
	bool create;          /* create the directory and databases if missing */
	bool read_only;       /* open MDB_RDONLY (no write transactions) */
	unsigned max_readers; /* 0: 126 */
} ct_store_opts_t;

typedef struct {
	MDB_env *env;
	MDB_dbi zones, rrsets, pools, health, schedules, history, meta;
	/* Held shared by every live transaction of this process, exclusively to move the map
	 * when another process grew the database past it (MDB_MAP_RESIZED). */
	pthread_rwlock_t remap;
	/* A write found the map full: before the next one, adopt the size another process
	 * (cutoverctl --map-size) may have recorded since. */
	atomic_bool grow;
	char path[4096];
} ct_store_t;

/*
 * Open (and with opts->create, create) the environment in directory path. Refuses a database
 * whose schema version is unknown (CT_EDBVER) and a missing one without create (CT_ENODB).
 * On failure *st is left closed and a message for people is in ct_store_last_error().
 */
int ct_store_open(ct_store_t *st, const char *path, const ct_store_opts_t *opts);
void ct_store_close(ct_store_t *st);

/*
 * mdb_env_info and mdb_env_stat (either out-parameter may be NULL), under the remap lock:
 * both read the meta pages, which live in the map another thread may be moving. Returns 0
 * or an MDB error.
 */
int ct_store_info(ct_store_t *st, MDB_envinfo *info, MDB_stat *stat);

/* Detail of the last ct_store_open failure in this thread (static buffer). */
const char *ct_store_last_error(void);

/*
 * A transaction with a sticky error (after Knot's knot_lmdb): once an operation fails, ret
 * holds the error, later operations are no-ops and commit aborts. Stack-allocated by callers.
 */
typedef struct {
	ct_store_t *store;
	MDB_txn *txn;
	MDB_cursor *cursor[16]; /* per-dbi cursors, opened on first use */
	int ret;
	bool rw;
	bool reader; /* long-lived reader: reset/renewed, never freed per use */
	bool held;   /* holds store->remap shared (while the transaction is live) */
} ct_txn_t;

void ct_txn_begin(ct_store_t *st, ct_txn_t *txn, bool rw);
/* Commit a write transaction (abort if ret is set); returns the final status. */
int ct_txn_commit(ct_txn_t *txn);
void ct_txn_abort(ct_txn_t *txn);

/*
 * Per-thread reader for the query path: init once, renew before a query, reset after. Renew
 * (like begin) adopts a map grown by another process, waiting for this process's other
 * transactions to end first.
 */
int ct_reader_init(ct_store_t *st, ct_txn_t *txn);
int ct_reader_renew(ct_txn_t *txn);
void ct_reader_reset(ct_txn_t *txn);
void ct_reader_deinit(ct_txn_t *txn);

/* Get: true if found; val points into the map, valid until the transaction ends or resets.
 * Not-found leaves ret alone; other errors set it. */
bool ct_txn_get(ct_txn_t *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val);
void ct_txn_put(ct_txn_t *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val,
                size_t vlen);
/* Delete a key; a missing key is not an error. */
void ct_txn_del(ct_txn_t *txn, MDB_dbi dbi, const void *key, size_t klen);
/* Delete every key that starts with prefix. */
void ct_txn_del_prefix(ct_txn_t *txn, MDB_dbi dbi, const void *prefix, size_t plen);
/* First key >= from; true if one exists (key/val point into the map). */
bool ct_txn_seek(ct_txn_t *txn, MDB_dbi dbi, const void *from, size_t flen, MDB_val *key,
                 MDB_val *val);
/* Next key after the last seek/next on the same dbi; true if one exists. */
bool ct_txn_next(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val);

/* Last key of the db, and the key before the last seek/next/prev/last; true if one exists. */
bool ct_txn_last(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val);
bool ct_txn_prev(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val);

/* True if key starts with prefix. */
static inline bool ct_key_has_prefix(const MDB_val *key, const void *prefix, size_t plen)
{
	return key->mv_size >= plen && memcmp(key->mv_data, prefix, plen) == 0;
}

/*
 * Record keys (rrsets and pools): apex-key 0x00 rest-of-owner-key 0x00 type(2, big-endian),
 * where apex-key is ct_dname_key(apex) and rest-of-owner-key is the owner's key without the
 * apex's prefix. Byte order is then zone, canonical owner order, type; a node's own records
 * sort before the names below it.
 *
 * ct_rr_key_node writes "apex 0x00 rest" (the prefix shared by the owner and every name
 * below it) and returns its length; ct_rr_key appends 0x00 and the type.
 */
size_t ct_rr_key_node(uint8_t *out, const uint8_t *owner_key, size_t owner_len, size_t apex_len);
size_t ct_rr_key(uint8_t *out, const uint8_t *owner_key, size_t owner_len, size_t apex_len,
                 uint16_t type);
#define CT_RR_KEY_MAXLEN (CT_KEY_MAXLEN + 4)

/* Split a record key back into apex key length, owner key (into owner, CT_KEY_MAXLEN) and type. */
int ct_rr_key_split(const MDB_val *key, uint8_t *owner, size_t *owner_len, size_t *apex_len,
                    uint16_t *type);

/*
 * rrsets value: version(1) ttl(4) count(2), then count times rdlength(2) rdata; big-endian.
 * Rdata is uncompressed wire format as in the zone file (letter case kept).
 */
typedef struct {
	uint32_t ttl;
	uint16_t count;
	const uint8_t *rdata; /* first rdlength field */
	size_t len;           /* bytes from rdata to the end of the value */
} ct_rrset_t;

/* Decode a value; CT_EDBCORRUPT when the lengths do not add up. Points into val. */
int ct_rrset_parse(const MDB_val *val, ct_rrset_t *rrset);

/* Iterate rdata: pos starts at 0; false at the end. */
static inline bool ct_rrset_next(const ct_rrset_t *rrset, size_t *pos, const uint8_t **rd,
                                 uint16_t *rdlen)
{
	if (*pos + 2 > rrset->len) {
		return false;
	}
	const uint8_t *p = rrset->rdata + *pos;
	*rdlen = (uint16_t)(p[0] << 8 | p[1]);
	*rd = p + 2;
	*pos += 2 + (size_t)*rdlen;
	return true;
}

/* A growing rrsets value for writers. */
typedef struct {
	uint8_t *buf;
	size_t len, cap;
} ct_rrset_builder_t;

int ct_rrset_builder_init(ct_rrset_builder_t *b, uint32_t ttl);
/* Append one rdata; duplicates are skipped (RFC 2181 5). CT_ERANGE past 65535 records. */
int ct_rrset_builder_add(ct_rrset_builder_t *b, const uint8_t *rdata, uint16_t rdlen);
void ct_rrset_builder_deinit(ct_rrset_builder_t *b);

/* zones value: version(1) serial(4) flags(4) apex wire name (letter case as imported). */
typedef struct {
	uint32_t serial;
	uint32_t flags;
	uint8_t apex[CT_DNAME_MAXLEN];
} ct_zone_t;

int ct_zone_parse(const MDB_val *val, ct_zone_t *zone);
void ct_zone_put(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len, const ct_zone_t *zone);

/*
 * The zone holding the name whose key is name_key: the longest zone apex that is a prefix of
 * it. Returns true and the apex key length (a prefix of name_key); zone may be NULL.
 */
bool ct_zone_find(ct_txn_t *txn, const uint8_t *name_key, size_t name_len, size_t *apex_len,
                  ct_zone_t *zone);

/* Increment the zone's serial (RFC 1982) in its zones entry and its SOA record. */
void ct_zone_bump_serial(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len);

/* Remove a zone: its records, its pools with their health and schedules, its zones entry. */
void ct_zone_delete(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len);

/* Big-endian helpers. */
static inline uint16_t ct_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t ct_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t ct_get64(const uint8_t *p)
{
	return (uint64_t)ct_get32(p) << 32 | ct_get32(p + 4);
}
static inline void ct_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void ct_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void ct_put64(uint8_t *p, uint64_t v)
{
	ct_put32(p, (uint32_t)(v >> 32));
	ct_put32(p + 4, (uint32_t)v);
}
