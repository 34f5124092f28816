/* SPDX-License-Identifier: MIT */
/* Fuzz target: EDNS (RFC 6891) and Client Subnet (RFC 7871) parsing in ct_query_parse.
 *
 * Input: bytes 0-1 the OPT record's CLASS (payload size), 2-5 its TTL (extended RCODE,
 * version, flags), the rest its RDATA (the options). They go into a query for "." IN A. The
 * input is also parsed as a whole message. What is accepted must be in range. */
#include "fuzz.h"
#include "cutover/query.h"
#include "cutover/store.h"
#include "cutover/wire.h"

static void check(const uint8_t *pkt, size_t len)
{
	ct_query_t q;
	int rc = ct_query_parse(pkt, len, &q);
	fuzz_assert(rc == CT_QUERY_DROP || rc == CT_RCODE_NOERROR || rc == CT_RCODE_FORMERR ||
	            rc == CT_RCODE_NOTIMP || rc == CT_RCODE_BADVERS);
	if (rc == CT_QUERY_DROP) {
		return;
	}
	fuzz_assert(q.id == ct_get16(pkt));
	if (q.has_question) {
		fuzz_assert(q.question_end > CT_WIRE_HDRLEN && q.question_end <= len);
		fuzz_assert(q.qname_len >= 1 && q.qname_len <= CT_DNAME_MAXLEN);
		fuzz_assert(ct_dname_check(q.qname, q.qname_len) == (int)q.qname_len);
	}
	if (rc == CT_RCODE_BADVERS) {
		fuzz_assert(q.edns && q.edns_version != 0);
	}
	if (q.edns) {
		fuzz_assert(q.udp_size >= 512);
	}
	if (q.has_ecs) {
		fuzz_assert(q.edns);
		fuzz_assert(q.ecs_family == 1 || q.ecs_family == 2);
		unsigned bits = q.ecs_family == 1 ? 32 : 128;
		fuzz_assert(q.ecs_source_prefix <= bits && q.ecs_scope_prefix == 0);
		/* no bit set beyond the source prefix (RFC 7871 6) */
		for (unsigned b = q.ecs_source_prefix; b < 128; b++) {
			fuzz_assert((q.ecs_addr[b / 8] & (0x80 >> (b % 8))) == 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t head[] = {
		0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* header */
		0x00, 0x00, 0x01, 0x00, 0x01, /* . IN A */
		0x00, 0x00, 0x29,             /* OPT at the root */
	};
	check(data, size);
	if (size < 6 || size - 6 > 65535 - sizeof(head) - 6) {
		return 0;
	}
	size_t rdlen = size - 6, len = sizeof(head) + 8 + rdlen;
	uint8_t *pkt = malloc(len); /* exact, so that ASan sees any overread */
	fuzz_assert(pkt != NULL);
	memcpy(pkt, head, sizeof(head));
	memcpy(pkt + sizeof(head), data, 6);
	ct_put16(pkt + sizeof(head) + 6, (uint16_t)rdlen);
	memcpy(pkt + sizeof(head) + 8, data + 6, rdlen);
	check(pkt, len);
	free(pkt);
	return 0;
}
