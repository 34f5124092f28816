/* SPDX-License-Identifier: MIT */
/* Unit tests: query parsing from raw bytes, and the response writer's compression. */
#include "cutover/errcode.h"
#include "cutover/query.h"
#include "cutover/wire.h"
#include "cutover/store.h"
#include "tap.h"

/* A query for www.example. A with optional trailing bytes (an OPT, garbage). */
static size_t make_query(uint8_t *p, uint8_t flags2, uint16_t qd, uint16_t ar, const void *tail,
			 size_t tlen)
{
	static const uint8_t q[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
				     0, 1, 0, 1 };
	memset(p, 0, 12);
	p[0] = 0x12;
	p[1] = 0x34;
	p[2] = flags2;
	ct_put16(p + 4, qd);
	ct_put16(p + 10, ar);
	memcpy(p + 12, q, sizeof(q));
	memcpy(p + 12 + sizeof(q), tail, tlen);
	return 12 + sizeof(q) + tlen;
}

int main(void)
{
	uint8_t pkt[1024];
	ct_query_t q;
	size_t n;

	n = make_query(pkt, 0x01, 1, 0, "", 0);
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_NOERROR, "plain query parses");
	is_int(q.id, 0x1234, "id");
	ok(q.rd && q.has_question && q.qtype == 1 && q.qclass == 1, "rd, question, type, class");
	is_int(q.question_end, n, "question ends the message");
	ok(!q.edns, "no edns");

	is_int(ct_query_parse(pkt, 11, &q), CT_QUERY_DROP, "short header dropped");
	n = make_query(pkt, 0x80, 1, 0, "", 0);
	is_int(ct_query_parse(pkt, n, &q), CT_QUERY_DROP, "QR=1 dropped");
	n = make_query(pkt, 0, 0, 0, "", 0);
	is_int(ct_query_parse(pkt, 12, &q), CT_RCODE_FORMERR, "QDCOUNT 0 is FORMERR");
	n = make_query(pkt, 0, 2, 0, "", 0);
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "QDCOUNT 2 is FORMERR");
	n = make_query(pkt, 0, 1, 0, "", 0);
	is_int(ct_query_parse(pkt, n - 2, &q), CT_RCODE_FORMERR, "truncated question");
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_NOERROR, "whole question");
	n = make_query(pkt, 0, 1, 0, "xx", 2);
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "trailing garbage is FORMERR");
	n = make_query(pkt, 2 << 3, 1, 0, "", 0);
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_NOTIMP, "opcode STATUS is NOTIMP");
	ok(q.has_question, "question still echoed for NOTIMP");
	n = make_query(pkt, 0, 1, 0, "", 0);
	pkt[12] = 64;
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "label length 64 is FORMERR");
	n = make_query(pkt, 0, 1, 0, "", 0);
	pkt[12] = 0xC0;
	pkt[13] = 12;
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "compressed question is FORMERR");

	/* EDNS */
	const uint8_t opt[] = { 0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0 };
	n = make_query(pkt, 0, 1, 1, opt, sizeof(opt));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_NOERROR, "OPT parses");
	ok(q.edns && q.udp_size == 4096 && q.edns_do && q.edns_version == 0, "OPT fields");
	uint8_t two[22];
	memcpy(two, opt, 11);
	memcpy(two + 11, opt, 11);
	n = make_query(pkt, 0, 1, 2, two, sizeof(two));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "two OPT records are FORMERR");
	const uint8_t v1[] = { 0, 0, 41, 0x04, 0xD0, 0, 1, 0, 0, 0, 0 };
	n = make_query(pkt, 0, 1, 1, v1, sizeof(v1));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_BADVERS, "EDNS version 1 is BADVERS");
	const uint8_t named[] = { 1, 'x', 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0 };
	n = make_query(pkt, 0, 1, 1, named, sizeof(named));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "OPT with a non-root owner");
	const uint8_t small[] = { 0, 0, 41, 0x00, 0x10, 0, 0, 0, 0, 0, 0 };
	n = make_query(pkt, 0, 1, 1, small, sizeof(small));
	ct_query_parse(pkt, n, &q);
	is_int(q.udp_size, 512, "payload below 512 counts as 512");
	const uint8_t overrun[] = { 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 9 };
	n = make_query(pkt, 0, 1, 1, overrun, sizeof(overrun));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "option overrunning the OPT");
	const uint8_t ecs[] = { 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 11,
				0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2 };
	n = make_query(pkt, 0, 1, 1, ecs, sizeof(ecs));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_NOERROR, "ECS parses");
	ok(q.has_ecs && q.ecs_family == 1 && q.ecs_source_prefix == 24 && q.ecs_addr[0] == 192,
	   "ECS fields");
	uint8_t bad_ecs[sizeof(ecs)];
	memcpy(bad_ecs, ecs, sizeof(ecs));
	bad_ecs[18] = 5; /* scope must be 0 in a query */
	n = make_query(pkt, 0, 1, 1, bad_ecs, sizeof(bad_ecs));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "ECS with scope set is FORMERR");
	memcpy(bad_ecs, ecs, sizeof(ecs));
	bad_ecs[17] = 16; /* three address bytes for a /16 */
	n = make_query(pkt, 0, 1, 1, bad_ecs, sizeof(bad_ecs));
	is_int(ct_query_parse(pkt, n, &q), CT_RCODE_FORMERR, "ECS address longer than prefix");

	/* writer: compression against the question, rollback */
	uint8_t buf[512];
	ct_wire_t w;
	n = make_query(pkt, 0, 1, 0, "", 0);
	ct_wire_init(&w, buf, sizeof(buf));
	memcpy(buf, pkt, n);
	memset(buf + 6, 0, 6);
	w.len = n;
	ct_wire_remember(&w, 12);
	const uint8_t WWW[] = { 3, 'W', 'W', 'W', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	const uint8_t a[] = { 192, 0, 2, 1 };
	is_int(ct_wire_put_rr(&w, CT_SEC_ANSWER, WWW, CT_TYPE_A, 60, a, 4), 0, "rr written");
	is_mem(buf + n, 2, "\xC0\x0C", 2, "owner compressed to the question, any case");
	size_t before = w.len;
	const uint8_t mail[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	is_int(ct_wire_put_rr(&w, CT_SEC_ANSWER, WWW, CT_TYPE_MX, 60, mail, sizeof(mail)), 0, "mx");
	is_mem(buf + before + 12, 9, "\x00\x0a\x04mail\xC0\x10", 9, "mx target compressed by suffix");
	is_int(ct_wire_count(buf, CT_SEC_ANSWER), 2, "two answers counted");
	ct_wire_mark_t m;
	ct_wire_mark(&w, &m);
	w.cap = w.len + 5;
	ok(ct_wire_put_rr(&w, CT_SEC_ANSWER, WWW, CT_TYPE_A, 60, a, 4) == CT_ESPACE, "overflow");
	ct_wire_rollback(&w, &m);
	ok(w.len == m.len && ct_wire_count(buf, CT_SEC_ANSWER) == 2, "rolled back");
	const uint8_t txt[] = { 3, 'a', 'b', 'c' };
	w.cap = sizeof(buf);
	before = w.len;
	const uint8_t other[] = { 3, 'f', 'o', 'o', 4, 't', 'e', 's', 't', 0 };
	ct_wire_put_rr(&w, CT_SEC_ADDITIONAL, other, CT_TYPE_TXT, 1, txt, 4);
	is_mem(buf + before, 10, other, 10, "unrelated owner written in full");

	/* the next records of an address set: owner as a pointer, type, class, TTL copied */
	const uint8_t b[] = { 192, 0, 2, 2 };
	size_t at = w.len;
	uint16_t ar = ct_wire_count(buf, CT_SEC_ADDITIONAL);
	is_int(ct_wire_repeat_rr(&w, CT_SEC_ADDITIONAL, before, b, 4), CT_EOK,
	       "repeat after a full owner");
	uint8_t want1[16] = { 0xC0, (uint8_t)before, 0, 16, 0, 1, 0, 0, 0, 1, 0, 4, 192, 0, 2, 2 };
	is_mem(buf + at, w.len - at, want1, sizeof(want1),
	       "pointer to it, then its type, class, TTL");
	is_int(ct_wire_count(buf, CT_SEC_ADDITIONAL), ar + 1, "counted");
	at = w.len;
	is_int(ct_wire_repeat_rr(&w, CT_SEC_ADDITIONAL, at - 16, b, 4), CT_EOK,
	       "repeat after a pointer");
	is_mem(buf + at, 16, want1, 16, "the same pointer copied");
	const uint8_t FOO[] = { 3, 'f', 'o', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	size_t foo_at = w.len;
	const uint8_t *v6a = (const uint8_t *)"0123456789abcdef";
	const uint8_t *v6b = (const uint8_t *)"fedcba9876543210";
	ct_wire_put_rr(&w, CT_SEC_ADDITIONAL, FOO, CT_TYPE_AAAA, 7, v6a, 16);
	is_mem(buf + foo_at, 6, "\x03\x66\x6f\x6f\xC0\x10", 6, "an owner of a label and a pointer");
	at = w.len;
	is_int(ct_wire_repeat_rr(&w, CT_SEC_ADDITIONAL, foo_at, v6b, 16), CT_EOK,
	       "repeat after it");
	uint8_t want2[12] = { 0xC0, (uint8_t)foo_at, 0, 28, 0, 1, 0, 0, 0, 7, 0, 16 };
	is_mem(buf + at, 12, want2, 12, "type read after the pointer that ends the owner");
	w.cap = w.len + 15;
	ok(ct_wire_repeat_rr(&w, CT_SEC_ADDITIONAL, foo_at, b, 4) == CT_ESPACE &&
	   w.len + 15 == w.cap, "does not fit: nothing written");
	done_testing();
	return exit_status();
}
