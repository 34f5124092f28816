/* SPDX-License-Identifier: MIT */
/* Query parsing straight from the wire, with every length checked against the packet. */
#include "cutover/query.h"
#include "cutover/store.h"
#include "cutover/wire.h"

#include <string.h>

/* Skip one RR's fixed part and rdata; the owner has been read already. */
static bool skip_rr_body(size_t len, size_t *pos, const uint8_t *pkt, uint16_t *type,
			 uint16_t *rclass, uint32_t *ttl, const uint8_t **rdata, uint16_t *rdlen)
{
	if (*pos + 10 > len) {
		return false;
	}
	const uint8_t *p = pkt + *pos;
	*type = ct_get16(p);
	*rclass = ct_get16(p + 2);
	*ttl = ct_get32(p + 4);
	*rdlen = ct_get16(p + 8);
	*pos += 10;
	if (*pos + *rdlen > len) {
		return false;
	}
	*rdata = pkt + *pos;
	*pos += *rdlen;
	return true;
}

/* RFC 7871 6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS (truncated). */
static bool parse_ecs(const uint8_t *d, uint16_t n, ct_query_t *q)
{
	if (n < 4) {
		return false;
	}
	uint16_t family = ct_get16(d);
	uint8_t source = d[2], scope = d[3];
	unsigned maxbits = family == 1 ? 32 : family == 2 ? 128 : 0;
	if (maxbits == 0 || source > maxbits || scope != 0) {
		return false; /* scope must be 0 in queries (RFC 7871 7.1.2) */
	}
	size_t addrlen = ((size_t)source + 7) / 8;
	if ((size_t)n - 4 != addrlen) {
		return false;
	}
	memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
	memcpy(q->ecs_addr, d + 4, addrlen);
	/* bits beyond the source prefix must be zero (RFC 7871 6) */
	if (source % 8 != 0 && addrlen > 0 &&
	    (q->ecs_addr[addrlen - 1] & (uint8_t)(0xFF >> (source % 8))) != 0) {
		return false;
	}
	q->has_ecs = true;
	q->ecs_family = family;
	q->ecs_source_prefix = source;
	q->ecs_scope_prefix = 0;
	return true;
}

static int parse_opt(const uint8_t *pkt, uint16_t rclass, uint32_t ttl, const uint8_t *rd,
		     uint16_t rdlen, ct_query_t *q)
{
	q->edns = true;
	q->udp_size = rclass < 512 ? 512 : rclass; /* RFC 6891 6.2.3: below 512 means 512 */
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_do = (ttl & 0x8000) != 0;
	size_t pos = 0;
	while (pos < rdlen) {
		if (pos + 4 > rdlen) {
			return CT_RCODE_FORMERR;
		}
		uint16_t code = ct_get16(rd + pos), olen = ct_get16(rd + pos + 2);
		pos += 4;
		if (pos + olen > rdlen) {
			return CT_RCODE_FORMERR; /* option overruns the record */
		}
		if (code == CT_EDNS_OPT_ECS) {
			if (q->has_ecs || !parse_ecs(rd + pos, olen, q)) {
				return CT_RCODE_FORMERR; /* RFC 7871 7.1.1 */
			}
		}
		pos += olen;
	}
	(void)pkt;
	return CT_RCODE_NOERROR;
}

int ct_query_qname_len(const uint8_t *pkt, size_t len)
{
	/* The question name must be plain: nothing precedes it for a pointer to refer to. */
	int n = ct_dname_check(pkt + CT_WIRE_HDRLEN, len - CT_WIRE_HDRLEN);
	return n < 0 || CT_WIRE_HDRLEN + (size_t)n + 4 > len ? -1 : n;
}

int ct_query_parse(const uint8_t *pkt, size_t len, ct_query_t *q)
{
	memset(q, 0, sizeof(*q));
	if (len < CT_WIRE_HDRLEN) {
		return CT_QUERY_DROP;
	}
	if (pkt[2] & 0x80) {
		return CT_QUERY_DROP; /* a response: never answer it (RFC 1035 4.1.1) */
	}
	q->id = ct_get16(pkt);
	q->opcode = (pkt[2] >> 3) & 0x0F;
	q->rd = (pkt[2] & 0x01) != 0;
	q->cd = (pkt[3] & 0x10) != 0;
	uint16_t qdcount = ct_get16(pkt + 4), ancount = ct_get16(pkt + 6);
	uint16_t nscount = ct_get16(pkt + 8), arcount = ct_get16(pkt + 10);

	if (qdcount != 1) {
		return q->opcode == 0 ? CT_RCODE_FORMERR : CT_RCODE_NOTIMP;
	}
	size_t pos = CT_WIRE_HDRLEN;
	int n = ct_query_qname_len(pkt, len);
	if (n < 0) {
		return CT_RCODE_FORMERR;
	}
	memcpy(q->qname, pkt + pos, (size_t)n);
	q->qname_len = (size_t)n;
	pos += (size_t)n;
	q->qtype = ct_get16(pkt + pos);
	q->qclass = ct_get16(pkt + pos + 2);
	pos += 4;
	q->question_end = pos;
	q->has_question = true;

	if (q->opcode != 0) {
		return CT_RCODE_NOTIMP; /* only QUERY; NOTIFY and UPDATE too (no transfers yet) */
	}
	/* Nothing but the question and the additional section, except the client's SOA that an
	 * IXFR query carries in the authority section (RFC 1995 3): refused later, not FORMERR. */
	if (ancount != 0 || (nscount != 0 && q->qtype != CT_TYPE_IXFR)) {
		return CT_RCODE_FORMERR;
	}
	for (uint32_t i = 0; i < (uint32_t)nscount + arcount; i++) {
		uint8_t owner[CT_DNAME_MAXLEN];
		if (ct_dname_unpack(pkt, len, &pos, owner) < 0) {
			return CT_RCODE_FORMERR;
		}
		uint16_t type, rclass, rdlen;
		uint32_t ttl;
		const uint8_t *rd;
		if (!skip_rr_body(len, &pos, pkt, &type, &rclass, &ttl, &rd, &rdlen)) {
			return CT_RCODE_FORMERR;
		}
		if (type != CT_TYPE_OPT) {
			continue; /* e.g. TSIG: not supported, ignored */
		}
		if (i < nscount || q->edns || owner[0] != 0) {
			q->edns = false;
			return CT_RCODE_FORMERR; /* RFC 6891 6.1.1: one OPT, in additional, owner root */
		}
		int rc = parse_opt(pkt, rclass, ttl, rd, rdlen, q);
		if (rc != CT_RCODE_NOERROR) {
			q->edns = false;
			q->has_ecs = false;
			return rc;
		}
	}
	if (pos != len) {
		q->edns = false;
		return CT_RCODE_FORMERR; /* trailing garbage */
	}
	if (q->edns && q->edns_version != 0) {
		return CT_RCODE_BADVERS; /* RFC 6891 6.1.3 */
	}
	return CT_RCODE_NOERROR;
}
