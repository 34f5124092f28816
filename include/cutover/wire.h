/* SPDX-License-Identifier: MIT */
/* Writing DNS messages straight into a caller's buffer: names with compression, RRs, rollback. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_WIRE_HDRLEN   12
#define CT_WIRE_COMP_MAX 96 /* label offsets remembered for compression */

enum { CT_SEC_ANSWER = 0, CT_SEC_AUTHORITY = 1, CT_SEC_ADDITIONAL = 2 };

enum {
	CT_TYPE_A = 1, CT_TYPE_NS = 2, CT_TYPE_CNAME = 5, CT_TYPE_SOA = 6, CT_TYPE_PTR = 12,
	CT_TYPE_HINFO = 13, CT_TYPE_MX = 15, CT_TYPE_TXT = 16, CT_TYPE_AAAA = 28,
	CT_TYPE_SRV = 33, CT_TYPE_DNAME = 39, CT_TYPE_OPT = 41, CT_TYPE_DS = 43,
	CT_TYPE_TKEY = 249, CT_TYPE_TSIG = 250, CT_TYPE_IXFR = 251, CT_TYPE_AXFR = 252,
	CT_TYPE_MAILB = 253, CT_TYPE_MAILA = 254, CT_TYPE_ANY = 255,
};

enum { CT_CLASS_IN = 1, CT_CLASS_CH = 3, CT_CLASS_ANY = 255 };

enum {
	CT_RCODE_NOERROR = 0, CT_RCODE_FORMERR = 1, CT_RCODE_SERVFAIL = 2, CT_RCODE_NXDOMAIN = 3,
	CT_RCODE_NOTIMP = 4, CT_RCODE_REFUSED = 5, CT_RCODE_BADVERS = 16,
};

/* A response under construction. buf/cap belong to the caller (a per-worker buffer). */
typedef struct {
	uint8_t *buf;
	size_t len;
	size_t cap;       /* may be lowered to keep room for a trailing OPT record */
	uint16_t ncomp;
	uint16_t comp[CT_WIRE_COMP_MAX]; /* offsets of labels written uncompressed */
} ct_wire_t;

/* A point to roll back to when an RRset does not fit (RFC 2181 9: never a partial RRset). */
typedef struct {
	size_t len;
	uint16_t ncomp;
	uint16_t counts[3];
} ct_wire_mark_t;

void ct_wire_init(ct_wire_t *w, uint8_t *buf, size_t cap);

/* Remember every label of the name already written at buf[off] (e.g. the question). */
void ct_wire_remember(ct_wire_t *w, size_t off);

/* Append a name, compressed against names written before when compress is set. */
int ct_wire_put_name(ct_wire_t *w, const uint8_t *name, bool compress);

/*
 * Append one RR to section sec: owner (wire, compressed), type, class IN, ttl, and rdata
 * (uncompressed wire as stored); the names inside NS, CNAME, PTR, MX and SOA rdata are
 * compressed (RFC 3597 4: only those well-known types). Bumps the section count.
 * CT_ESPACE when it does not fit: the caller rolls back to its mark.
 */
int ct_wire_put_rr(ct_wire_t *w, int sec, const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rdata, uint16_t rdlen);

/*
 * Append an RR like the one written at offset at (same owner, type, class and TTL; rdata of
 * no names, as A and AAAA) with this rdata: the owner is a pointer to that RR's (or a copy of
 * its pointer), with no name search. For a set of addresses after its first record.
 */
int ct_wire_repeat_rr(ct_wire_t *w, int sec, size_t at, const uint8_t *rdata, uint16_t rdlen);

void ct_wire_mark(const ct_wire_t *w, ct_wire_mark_t *m);
void ct_wire_rollback(ct_wire_t *w, const ct_wire_mark_t *m);

/* Header field helpers over a message buffer. */
static inline uint16_t ct_wire_count(const uint8_t *msg, int sec)
{
	return (uint16_t)(msg[6 + 2 * sec] << 8 | msg[7 + 2 * sec]);
}

/* One more record in section sec's count (for records written by hand after the header). */
static inline void ct_wire_count_one(uint8_t *msg, int sec)
{
	uint16_t n = (uint16_t)(ct_wire_count(msg, sec) + 1);
	msg[6 + 2 * sec] = (uint8_t)(n >> 8);
	msg[7 + 2 * sec] = (uint8_t)n;
}
