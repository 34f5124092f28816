/* SPDX-License-Identifier: MIT */
/* Parsing a DNS query from the wire: header, question, EDNS (RFC 1035 4.1, RFC 6891). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/dname.h"

#define CT_EDNS_OPT_ECS 8 /* RFC 7871 */

typedef struct {
	uint16_t id;
	uint8_t opcode;
	bool rd, cd;
	bool has_question;      /* a well-formed question is at pkt[12..question_end) */
	size_t question_end;
	uint8_t qname[CT_DNAME_MAXLEN]; /* as sent (letter case kept) */
	size_t qname_len;
	uint16_t qtype, qclass;

	bool edns;              /* a well-formed OPT record was present */
	uint16_t udp_size;      /* the requestor's payload size (RFC 6891 6.2.5) */
	uint8_t edns_version;
	bool edns_do;

	bool has_ecs;           /* EDNS Client Subnet (RFC 7871 6) */
	uint16_t ecs_family;
	uint8_t ecs_source_prefix;
	uint8_t ecs_scope_prefix;
	uint8_t ecs_addr[16];
} ct_query_t;

/* Result of parsing: an RCODE to answer with, or CT_QUERY_DROP for no reply at all. */
#define CT_QUERY_DROP (-1)

/*
 * Parse pkt[0..len). Returns CT_QUERY_DROP for messages that get no reply (shorter than a
 * header, QR set), otherwise the RCODE the response must carry: NOERROR when the query is
 * fine, FORMERR, NOTIMP (opcode) or BADVERS (16, EDNS version). Fields of q that were parsed
 * before an error are valid (has_question, edns) so the error response can echo them.
 */
int ct_query_parse(const uint8_t *pkt, size_t len, ct_query_t *q);

/* The length of the question's name in pkt[0..len) (a message of at least a header): plain,
 * right after the header, with its type and class after it; -1 when it is not. */
int ct_query_qname_len(const uint8_t *pkt, size_t len);
