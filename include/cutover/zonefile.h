/* SPDX-License-Identifier: MIT */
/* Zone files (RFC 1035 master files): read with $INCLUDE, check, write into the store, export. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cutover/dname.h"
#include "cutover/store.h"

#define CT_ZONEFILE_MAXDEPTH  8  /* $INCLUDE nesting below the main file */
#define CT_ZONEFILE_MAXERRORS 50 /* errors reported one by one; the rest are only counted */
#define CT_ZONEFILE_MAXTTL    2147483647u /* RFC 2181 8 */

/*
 * Receives every message for people, one line without a newline: "FILE:LINE: what is wrong"
 * (or "FILE: ..." when no line applies). prio is CT_LOG_ERR or CT_LOG_WARNING. msg is only
 * valid during the call.
 */
typedef void (*ct_zonefile_report_t)(void *ctx, int prio, const char *msg);

/* One record as read from a file. All pointers are owned by the ct_zonefile_t. */
typedef struct {
	uint8_t *owner; /* uncompressed wire name, letter case as written */
	uint8_t *key;   /* ct_dname_key(owner) */
	uint8_t *rdata; /* uncompressed wire rdata, names as written (not case-folded) */
	uint16_t key_len;
	uint16_t rdlen;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint32_t file; /* index into ct_zonefile_t.files */
	int line;      /* first line of the record in that file */
	uint32_t seq;  /* position in reading order (includes expanded in place) */
} ct_zonefile_rr_t;

/* An in-memory zone: ct_zonefile_init, _parse, _validate, then _write in a write transaction. */
typedef struct {
	ct_zonefile_rr_t *rr;
	size_t count, cap;
	char **files; /* every file read, as shown in messages; [0] is the main file */
	size_t nfiles;

	uint8_t apex[CT_DNAME_MAXLEN]; /* the zone apex (letter case of the SOA owner) */
	bool have_apex;       /* set by _parse when an origin was given, else by _validate */
	bool validated;       /* _validate succeeded: records sorted, merged, checked */
	size_t rrsets;        /* after _validate: number of owner+type sets */
	uint32_t file_serial; /* after _validate: the SOA serial in the file */

	uint32_t serial;     /* after _write: the serial written (file's, or old + 1) */
	uint32_t old_serial; /* after _write, if replaced: the serial the store held */
	bool replaced;       /* after _write: the zone existed before */

	unsigned errors, warnings;
	ct_zonefile_report_t report; /* NULL: messages go to ct_log() */
	void *report_ctx;
} ct_zonefile_t;

/* Prepare an empty zone; report may be NULL (messages then go to ct_log). */
void ct_zonefile_init(ct_zonefile_t *zf, ct_zonefile_report_t report, void *ctx);
/* Free everything the zone holds; zf may then be initialised again. */
void ct_zonefile_deinit(ct_zonefile_t *zf);

/*
 * Read the master file at path, following $INCLUDE (paths relative to the including file's
 * directory, at most CT_ZONEFILE_MAXDEPTH deep, loops refused) and honouring $ORIGIN and $TTL.
 * An included file starts with the includer's $ORIGIN (or the one given on the $INCLUDE line)
 * and $TTL; whatever it changes ends with it (RFC 1035 5.1). Records without a TTL take $TTL,
 * else the last explicit TTL. origin (presentation form, may be NULL) is the zone apex and the
 * initial $ORIGIN; without it relative names need a $ORIGIN first and the apex is the SOA
 * owner. Every problem is reported with its file and line; reading goes on to find more.
 * Returns CT_EOK, CT_EZONE (problems reported), a negative errno when path cannot be read
 * (reported too) or CT_ENOMEM.
 */
int ct_zonefile_parse(ct_zonefile_t *zf, const char *path, const char *origin);

/*
 * Check the zone: exactly one SOA, at the apex; NS at the apex; CNAME alone at its name and
 * not at the apex; no data outside the zone; below a delegation only glue (A/AAAA), at it
 * only NS, DS and glue. Identical records are merged silently (RFC 2181 5); the records of
 * one owner+type that differ in TTL all get the lowest, with a warning (RFC 2181 5.2).
 * Sorts the records into canonical order. Returns CT_EOK or CT_EZONE (errors reported).
 */
int ct_zonefile_validate(ct_zonefile_t *zf);

/*
 * Replace the zone in the store inside txn (a write transaction; the caller commits): its old
 * records go, its pools stay, the new records and the zones entry are written. The serial is
 * the file's if the zone is new or the file's is greater (RFC 1982) than the stored one,
 * else the stored one + 1; it is written into the SOA record too. Needs a validated zone.
 * Returns txn->ret (set on failure, so that a commit aborts).
 */
int ct_zonefile_write(ct_zonefile_t *zf, ct_txn_t *txn);

/*
 * Print the zone whose apex is apex (wire form, any letter case) from the store as a master
 * file that imports back to the very same records: a comment, $ORIGIN, the SOA, then every
 * record in canonical order, one per line with its TTL. Rdata is printed by ldns and checked
 * by parsing it back; anything that would not read back the same is printed in the RFC 3597
 * generic form. Returns CT_EOK, CT_ENOZONE, CT_EDBCORRUPT, a txn error or -EIO (write).
 */
int ct_zonefile_export(ct_txn_t *txn, const uint8_t *apex, FILE *out);

/*
 * A domain name in presentation form ("app.example.com", trailing dot optional) into out
 * (CT_DNAME_MAXLEN bytes), letter case kept. Returns the wire length or CT_EMALF.
 */
int ct_zonefile_parse_name(const char *text, uint8_t *out);
