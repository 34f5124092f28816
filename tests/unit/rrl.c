/* SPDX-License-Identifier: MIT */
/* Unit tests: response rate limiting on a fake clock: burst, refill, slip, prefixes, classes,
 * the slip reply's bytes, clock wrap, a full table. */
#include "cutover/rrl.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/wire.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>

typedef struct {
	uint8_t name[64];
	uint16_t qtype;
	int rcode;
	int an, ns;     /* records of the answer and authority sections */
	bool opt, ecs;  /* an OPT record, with a client subnet option */
	size_t pad;     /* rdata bytes of each answer record (large answers) */
} resp_spec_t;

/* A response as ct_answer writes it: header, question, records with compressed owners, OPT. */
static size_t build(const resp_spec_t *s, uint8_t *buf)
{
	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = 0x84; /* QR AA */
	buf[3] = (uint8_t)s->rcode;
	ct_put16(buf + 4, 1);
	ct_put16(buf + 6, (uint16_t)s->an);
	ct_put16(buf + 8, (uint16_t)s->ns);
	ct_put16(buf + 10, s->opt ? 1 : 0);
	size_t n = ct_dname_len(s->name), len = 12;
	memcpy(buf + len, s->name, n);
	len += n;
	ct_put16(buf + len, s->qtype);
	ct_put16(buf + len + 2, CT_CLASS_IN);
	len += 4;
	for (int i = 0; i < s->an + s->ns; i++) {
		size_t rdlen = i < s->an ? 4 + s->pad : 4;
		buf[len] = 0xC0;
		buf[len + 1] = 12;
		ct_put16(buf + len + 2, i < s->an ? CT_TYPE_A : CT_TYPE_SOA);
		ct_put16(buf + len + 4, CT_CLASS_IN);
		ct_put32(buf + len + 6, 30);
		ct_put16(buf + len + 10, (uint16_t)rdlen);
		memset(buf + len + 12, 0x7F, rdlen);
		len += 12 + rdlen;
	}
	if (s->opt) {
		static const uint8_t opt[] = { 0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0 };
		static const uint8_t ecs[] = { 0, 8, 0, 7, 0, 1, 24, 24, 192, 0, 2 };
		memcpy(buf + len, opt, sizeof(opt));
		if (s->ecs) {
			ct_put16(buf + len + 9, sizeof(ecs));
			memcpy(buf + len + sizeof(opt), ecs, sizeof(ecs));
		}
		len += sizeof(opt) + (s->ecs ? sizeof(ecs) : 0);
	}
	return len;
}

/* A client address, IPv6 when it has a colon. */
static struct sockaddr_storage client(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (strchr(text, ':') != NULL) {
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, text, &in6->sin6_addr);
	} else {
		in->sin_family = AF_INET;
		inet_pton(AF_INET, text, &in->sin_addr);
	}
	return ss;
}

static ct_rrl_t rrl;
static ct_rrl_stats_t st;

static void setup(unsigned rate, unsigned slip, unsigned table)
{
	ct_rrl_deinit(&rrl);
	memset(&st, 0, sizeof(st));
	ct_rrl_conf_t conf = { .rate = rate, .slip = slip, .ipv4_prefix = 24, .ipv6_prefix = 56,
		               .table_size = table };
	if (ct_rrl_init(&rrl, &conf) != CT_EOK) {
		diag("ct_rrl_init failed");
		exit(1);
	}
}

static const resp_spec_t www = { "\3www\3app\7example", CT_TYPE_A, 0, 2, 0, false, false, 0 };

/* Send n copies of spec from src at now; how many went out whole, slipped, dropped. */
typedef struct {
	int sent, slipped, dropped;
} tally_t;

static tally_t send_n(const resp_spec_t *s, const struct sockaddr_storage *src, uint32_t now,
                      int n)
{
	tally_t t = { 0 };
	for (int i = 0; i < n; i++) {
		uint8_t buf[2048];
		size_t len = build(s, buf);
		size_t out = ct_rrl_apply(&rrl, &st, (const struct sockaddr *)src, buf, len, now);
		if (out == len) {
			t.sent++;
		} else if (out == 0) {
			t.dropped++;
		} else {
			t.slipped++;
		}
	}
	return t;
}

static int passed(const resp_spec_t *s, const char *addr, uint32_t now, int n)
{
	struct sockaddr_storage src = client(addr);
	return send_n(s, &src, now, n).sent;
}

static void test_init(void)
{
	ct_rrl_t r;
	ct_rrl_conf_t c = { .rate = 0, .table_size = 16, .ipv4_prefix = 24, .ipv6_prefix = 56 };
	is_int(ct_rrl_init(&r, &c), CT_EINVAL, "rate 0 is refused (off is no table)");
	c.rate = 5;
	c.table_size = 0;
	is_int(ct_rrl_init(&r, &c), CT_EINVAL, "a table of no buckets is refused");
	c.table_size = 16;
	c.ipv6_prefix = 129;
	is_int(ct_rrl_init(&r, &c), CT_EINVAL, "an IPv6 prefix over 128 is refused");
	ct_rrl_t off = { 0 };
	uint8_t buf[512];
	size_t len = build(&www, buf);
	struct sockaddr_storage src = client("192.0.2.1");
	ok(ct_rrl_apply(&off, &st, (struct sockaddr *)&src, buf, len, 0) == len,
	   "with no table every response goes");
}

static void test_burst_refill(void)
{
	setup(10, 0, 1024);
	is_int(passed(&www, "192.0.2.1", 5000, 50), 10, "a fresh bucket lets the rate through at once");
	is_int(passed(&www, "192.0.2.1", 5000, 5), 0, "then nothing in the same millisecond");
	is_int(passed(&www, "192.0.2.1", 5050, 5), 0, "half a response's credit after 50 ms: none");
	is_int(passed(&www, "192.0.2.1", 5100, 5), 1, "one after 100 ms at 10 a second");
	is_int(passed(&www, "192.0.2.1", 5100 + 60000, 50), 10,
	       "after a minute idle only the burst again (credit is capped)");
	/* a steady flood, one query every 7 ms for 10 s: the rate and nothing more */
	int got = 0, n = 0;
	uint32_t t0 = 100000;
	setup(10, 0, 1024);
	passed(&www, "192.0.2.1", t0, 10);
	for (uint32_t t = t0 + 7; t <= t0 + 10000; t += 7, n++) {
		got += passed(&www, "192.0.2.1", t, 1);
	}
	ok(got >= 99 && got <= 100, "a flood for 10 s at rate 10 after the burst: 100 answers (%d)",
	   got);
	is_int(ct_counter_get(&st.limited[CT_RRL_POSITIVE]), n - got,
	       "the others are counted as limited positive answers");
}

static void test_slip(void)
{
	struct sockaddr_storage src = client("198.51.100.7");
	setup(5, 2, 1024);
	send_n(&www, &src, 1000, 5);
	tally_t t = send_n(&www, &src, 1000, 10);
	ok(t.sent == 0 && t.slipped == 5 && t.dropped == 5, "slip 2: every second limited one slips");
	is_int(ct_counter_get(&st.slipped), 5, "slipped are counted");
	is_int(ct_counter_get(&st.limited[CT_RRL_POSITIVE]), 10, "and all ten as limited");
	setup(5, 1, 1024);
	send_n(&www, &src, 1000, 5);
	t = send_n(&www, &src, 1000, 10);
	ok(t.slipped == 10 && t.dropped == 0, "slip 1: every limited one slips");
	setup(5, 3, 1024);
	send_n(&www, &src, 1000, 5);
	t = send_n(&www, &src, 1000, 9);
	ok(t.slipped == 3 && t.dropped == 6, "slip 3: every third");
	setup(5, 0, 1024);
	send_n(&www, &src, 1000, 5);
	t = send_n(&www, &src, 1000, 10);
	ok(t.slipped == 0 && t.dropped == 10, "slip 0: none slips");

	/* the count goes on across the answers the rate lets through, until the bucket is full */
	setup(5, 2, 1024);
	send_n(&www, &src, 1000, 5);
	ok(send_n(&www, &src, 1000, 1).dropped == 1, "slip 2: the first limited one is dropped");
	ok(send_n(&www, &src, 1200, 1).sent == 1, "one answer 200 ms later (rate 5)");
	ok(send_n(&www, &src, 1200, 1).slipped == 1,
	   "the next limited one is the second of the episode: it slips");
	ok(send_n(&www, &src, 3000, 5).sent == 5, "after a quiet second and more, the burst again");
	ok(send_n(&www, &src, 3000, 1).dropped == 1, "and a new episode: its first is dropped");
}

static void test_slip_reply(void)
{
	struct sockaddr_storage src = client("203.0.113.9");
	setup(1, 1, 64);
	resp_spec_t s = www;
	s.ns = 1;
	s.opt = true;
	s.ecs = true;
	uint8_t buf[1024], orig[1024];
	size_t len = build(&s, buf);
	memcpy(orig, buf, len);
	size_t qend = 12 + ct_dname_len(s.name) + 4;
	ok(ct_rrl_apply(&rrl, &st, (struct sockaddr *)&src, buf, len, 7) == len, "first goes");
	size_t out = ct_rrl_apply(&rrl, &st, (struct sockaddr *)&src, buf, len, 7);
	is_int(out, qend + 11 + 11, "slip reply: header, question and the OPT with its ECS option");
	ok(buf[2] == (orig[2] | 0x02) && buf[3] == orig[3], "TC set, other flags and RCODE kept");
	ok(memcmp(buf, orig, 2) == 0, "the ID kept");
	ok(ct_wire_count(buf, CT_SEC_ANSWER) == 0 && ct_wire_count(buf, CT_SEC_AUTHORITY) == 0 &&
	       ct_wire_count(buf, CT_SEC_ADDITIONAL) == 1 && ct_get16(buf + 4) == 1,
	   "no answer or authority records, the OPT only in additional");
	ok(memcmp(buf + 12, orig + 12, qend - 12) == 0, "the question unchanged");
	ok(memcmp(buf + qend, orig + len - 22, 22) == 0, "the OPT record byte for byte");

	s = www;
	len = build(&s, buf);
	out = ct_rrl_apply(&rrl, &st, (struct sockaddr *)&src, buf, len, 7);
	is_int(out, qend, "without EDNS: header and question only");
	ok(ct_wire_count(buf, CT_SEC_ADDITIONAL) == 0, "and no additional records");
}

static void test_prefixes(void)
{
	setup(3, 0, 4096);
	passed(&www, "192.0.2.1", 1000, 3);
	is_int(passed(&www, "192.0.2.200", 1000, 3), 0, "another address in the /24 shares the bucket");
	is_int(passed(&www, "::ffff:192.0.2.9", 1000, 3), 0, "so does it as an IPv4-mapped address");
	is_int(passed(&www, "192.0.3.1", 1000, 3), 3, "the next /24 has its own");
	passed(&www, "2001:db8:0:1::1", 1000, 3);
	is_int(passed(&www, "2001:db8:0:ff::2", 1000, 3), 0, "IPv6: the same /56 shares");
	is_int(passed(&www, "2001:db8:0:100::1", 1000, 3), 3, "the next /56 has its own");

	ct_rrl_deinit(&rrl);
	ct_rrl_conf_t conf = { .rate = 3, .ipv4_prefix = 32, .ipv6_prefix = 128, .table_size = 64 };
	ct_rrl_init(&rrl, &conf);
	passed(&www, "192.0.2.1", 1000, 3);
	is_int(passed(&www, "192.0.2.2", 1000, 3), 3, "prefix 32: each address on its own");
	passed(&www, "2001:db8::1", 1000, 3);
	is_int(passed(&www, "2001:db8::2", 1000, 3), 3, "prefix 128: each address on its own");
}

static void test_classes(void)
{
	setup(3, 0, 4096);
	const char *c = "192.0.2.1";
	passed(&www, c, 1000, 3);
	resp_spec_t s = www;
	memcpy(s.name, "\3WwW\3APP\7example", 17);
	is_int(passed(&s, c, 1000, 1), 0, "the name in another letter case: the same bucket");
	s = www;
	memcpy(s.name, "\3api\3app\7example", 17);
	is_int(passed(&s, c, 1000, 3), 3, "positive answers: another name, another bucket");
	s = www;
	s.qtype = CT_TYPE_AAAA;
	is_int(passed(&s, c, 1000, 3), 3, "and another type");
	s.an = 0;
	s.ns = 1;
	is_int(passed(&s, c, 1000, 3), 3, "NODATA is a class of its own");
	is_int(ct_counter_get(&st.limited[CT_RRL_EMPTY]), 0, "counted as empty when limited");
	passed(&s, c, 1000, 1);
	is_int(ct_counter_get(&st.limited[CT_RRL_EMPTY]), 1, "(it is)");

	/* NXDOMAIN and errors: per prefix, whatever the name */
	int got = 0;
	for (int i = 0; i < 10; i++) {
		resp_spec_t nx = { "\4n000\3app\7example", CT_TYPE_A, CT_RCODE_NXDOMAIN, 0, 1,
			           false, false, 0 };
		nx.name[2] = (uint8_t)('0' + i);
		got += passed(&nx, c, 1000, 1);
	}
	is_int(got, 3, "NXDOMAIN for ten random names: the rate, not ten");
	is_int(ct_counter_get(&st.limited[CT_RRL_NXDOMAIN]), 7, "the rest counted as nxdomain");
	resp_spec_t err = www;
	err.rcode = CT_RCODE_REFUSED;
	err.an = 0;
	is_int(passed(&err, c, 1000, 5), 3, "REFUSED: limited as errors");
	resp_spec_t badvers = www;
	badvers.an = 0;
	badvers.opt = true;
	is_int(passed(&badvers, c, 1000, 1), 0, "no records at all (BADVERS): also an error");
	resp_spec_t any = www;
	any.qtype = CT_TYPE_ANY;
	is_int(passed(&any, c, 1000, 5), 3, "ANY is a class of its own");
	resp_spec_t big = www;
	big.pad = 600;
	is_int(passed(&big, c, 1000, 5), 3, "answers of 1024 bytes and more too");
	is_int(ct_counter_get(&st.limited[CT_RRL_LARGE]), 2, "counted as large");

	/* a FORMERR without a question: limited per prefix, the slip reply is the header */
	setup(1, 1, 64);
	uint8_t hdr[12] = { 0xAB, 0xCD, 0x80, CT_RCODE_FORMERR };
	struct sockaddr_storage src = client(c);
	ok(ct_rrl_apply(&rrl, &st, (struct sockaddr *)&src, hdr, 12, 1) == 12, "a header-only error goes");
	is_int(ct_rrl_apply(&rrl, &st, (struct sockaddr *)&src, hdr, 12, 1), 12,
	       "the next slips as the header alone");
	ok(hdr[2] & 0x02, "with TC");
	uint8_t junk[40] = { 0xAB, 0xCD, 0x80, CT_RCODE_FORMERR, 0, 1, 0, 0, 0, 0, 0, 1, 70 };
	is_int(ct_rrl_apply(&rrl, &st, (struct sockaddr *)&src, junk, sizeof(junk), 1), 12,
	       "a response whose question does not parse slips as the header alone");
	is_int(ct_get16(junk + 4) + ct_get16(junk + 10), 0, "with no question or OPT counted");
	is_int(ct_counter_get(&st.limited[CT_RRL_ERROR]), 2, "counted as errors");
}

static void test_clock(void)
{
	setup(10, 0, 64);
	uint32_t t = UINT32_MAX - 50;
	passed(&www, "192.0.2.1", t, 10);
	is_int(passed(&www, "192.0.2.1", t + 100, 5), 1, "refill across the clock's wrap");
	is_int(passed(&www, "192.0.2.1", t + 90, 5), 0,
	       "a reading behind the bucket's (another worker's clock) refills nothing");
	is_int(passed(&www, "192.0.2.1", t + 200, 5), 1, "and does not set it back");
}

static void test_table(void)
{
	setup(2, 0, 4);
	int got = 0;
	char addr[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
		got += passed(&www, addr, 1000, 2);
	}
	is_int(got, 2000, "a table of 4 buckets and 1000 prefixes: each new one gets its burst");
	ok(ct_counter_get(&st.evicted) >= 990, "and taking busy buckets is counted (%llu)",
	   (unsigned long long)ct_counter_get(&st.evicted));
	setup(2, 0, 4);
	passed(&www, "10.0.0.1", 1000, 2);
	passed(&www, "10.0.1.1", 1000 + 5000, 2);
	is_int(ct_counter_get(&st.evicted), 0, "taking a bucket idle for a second is no eviction");
}

int main(void)
{
	ct_log_set_level(CT_LOG_WARNING); /* the 'rrl limiting' lines are info */
	test_init();
	test_burst_refill();
	test_slip();
	test_slip_reply();
	test_prefixes();
	test_classes();
	test_clock();
	test_table();
	ct_rrl_deinit(&rrl);
	done_testing();
	return tap_failed != 0;
}
