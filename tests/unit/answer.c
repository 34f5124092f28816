/* SPDX-License-Identifier: MIT */
/* Unit tests: the authoritative lookup over a store built record by record (no zone files). */
#include "cutover/anscache.h"
#include "cutover/answer.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"
#include "cutover/pool.h"
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>

static ct_store_t store;

/* Text to wire through the library's name parser. */
static size_t wire(const char *text, uint8_t *out)
{
	int n = ct_zonefile_parse_name(text, out);
	return n < 0 ? 0 : (size_t)n;
}

static void add(const char *apex, const char *owner, uint16_t type, uint32_t ttl,
		const void *rd, uint16_t rdlen)
{
	uint8_t a[256], o[256], ak[CT_KEY_MAXLEN], ok_[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN];
	wire(apex, a);
	wire(owner, o);
	size_t alen = ct_dname_key(a, ak), olen = ct_dname_key(o, ok_);
	size_t klen = ct_rr_key(key, ok_, olen, alen, type);
	ct_txn_t txn;
	ct_txn_begin(&store, &txn, true);
	MDB_val old;
	ct_rrset_builder_t b;
	ct_rrset_builder_init(&b, ttl);
	if (ct_txn_get(&txn, store.rrsets, key, klen, &old)) {
		ct_rrset_t rs;
		ct_rrset_parse(&old, &rs);
		size_t pos = 0;
		const uint8_t *d;
		uint16_t dl;
		while (ct_rrset_next(&rs, &pos, &d, &dl)) {
			ct_rrset_builder_add(&b, d, dl);
		}
	}
	ct_rrset_builder_add(&b, rd, rdlen);
	ct_txn_put(&txn, store.rrsets, key, klen, b.buf, b.len);
	if (strcmp(apex, owner) == 0 && type == CT_TYPE_SOA) {
		ct_zone_t z = { .serial = 1 };
		memcpy(z.apex, a, sizeof(a) < sizeof(z.apex) ? sizeof(a) : sizeof(z.apex));
		ct_zone_put(&txn, ak, alen, &z);
	}
	if (ct_txn_commit(&txn) != CT_EOK) {
		diag("commit failed");
		exit(1);
	}
	ct_rrset_builder_deinit(&b);
}

static void add_name(const char *apex, const char *owner, uint16_t type, const char *target)
{
	uint8_t rd[256];
	size_t n = wire(target, rd);
	add(apex, owner, type, 300, rd, (uint16_t)n);
}

static void add_a(const char *apex, const char *owner, uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };
	add(apex, owner, CT_TYPE_A, 300, rd, 4);
}

typedef struct {
	uint8_t buf[65535];
	size_t len;
	int rcode;
	bool aa, tc;
	int an, ns, ar;
} resp_t;

static const uint8_t *ecs_opt; /* an ECS option to send with EDNS queries, or NULL */
static size_t ecs_opt_len;

/* Every query is asked a second time (from the answer cache) and of a context without the
 * cache: all three replies must be the same bytes. Off where answers differ by design (pool
 * targets rotate per answer). */
static ct_answer_ctx_t plain;
static bool check_repeat = true;
static int repeat_checked, repeat_differs, prefetch_wrong;

static void check_cached(ct_answer_ctx_t *ctx, const uint8_t *q, size_t n, bool tcp,
			 const resp_t *r, const char *qname, uint16_t qtype)
{
	static uint8_t again[65535], uncached[65535];
	/* the prefetch hint of a batch names the set this answer is kept in; the repeated
	 * query is answered with it, as a UDP batch does */
	ctx->token = ct_answer_prefetch(ctx, q, n);
	if (ctx->token != ct_anscache_hash(ctx->cache, q + 12, ct_dname_len(q + 12), qtype)) {
		prefetch_wrong++;
		diag("%s type %u: the prefetch token is not the cache's hash", qname, qtype);
	}
	size_t a = ct_answer(ctx, q, n, tcp, NULL, again, sizeof(again));
	size_t b = ct_answer(&plain, q, n, tcp, NULL, uncached, sizeof(uncached));
	repeat_checked++;
	if (a != r->len || memcmp(again, r->buf, a) != 0 || b != r->len ||
	    memcmp(uncached, r->buf, b) != 0) {
		repeat_differs++;
		diag("%s type %u: the repeated or uncached answer differs", qname, qtype);
	}
}

static void ask(ct_answer_ctx_t *ctx, const char *qname, uint16_t qtype, bool tcp, bool edns,
		resp_t *r)
{
	uint8_t q[600];
	memset(q, 0, 12);
	q[0] = 0xAB;
	q[5] = 1;
	size_t n = 12 + wire(qname, q + 12);
	ct_put16(q + n, qtype);
	ct_put16(q + n + 2, CT_CLASS_IN);
	n += 4;
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0 };
		memcpy(q + n, opt, sizeof(opt));
		if (ecs_opt != NULL) {
			ct_put16(q + n + 9, (uint16_t)ecs_opt_len);
			memcpy(q + n + sizeof(opt), ecs_opt, ecs_opt_len);
			n += ecs_opt_len;
		}
		n += sizeof(opt);
		q[11] = 1;
	}
	r->len = ct_answer(ctx, q, n, tcp, NULL, r->buf, sizeof(r->buf));
	r->rcode = r->buf[3] & 0x0F;
	r->aa = (r->buf[2] & 0x04) != 0;
	r->tc = (r->buf[2] & 0x02) != 0;
	r->an = ct_wire_count(r->buf, 0);
	r->ns = ct_wire_count(r->buf, 1);
	r->ar = ct_wire_count(r->buf, 2);
	if (check_repeat) {
		check_cached(ctx, q, n, tcp, r, qname, qtype);
	}
}

/* The first answer record is owned by the query name: a pointer to the question (0xC00C). */
static bool answer_at_qname(const resp_t *r, const char *qname)
{
	uint8_t w[256];
	size_t qend = 12 + wire(qname, w) + 4;
	return r->an > 0 && r->len > qend + 2 && r->buf[qend] == 0xC0 && r->buf[qend + 1] == 0x0C;
}

int main(void)
{
	char dir[] = "/tmp/ct-answer-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	ct_store_opts_t opts = { .create = true };
	if (ct_store_open(&store, dir, &opts) != CT_EOK) {
		diag("open: %s", ct_store_last_error());
		return 1;
	}
	const char *Z = "example.";
	uint8_t soa[256];
	size_t sl = wire("ns.example.", soa);
	sl += wire("admin.example.", soa + sl);
	memset(soa + sl, 0, 20);
	ct_put32(soa + sl, 1);
	ct_put32(soa + sl + 16, 60); /* minimum */
	add(Z, Z, CT_TYPE_SOA, 3600, soa, (uint16_t)(sl + 20));
	add_name(Z, Z, CT_TYPE_NS, "ns.example.");
	add_a(Z, "ns.example.", 53);
	add_a(Z, "www.example.", 1);
	add_a(Z, "www.example.", 2);
	add_name(Z, "c1.example.", CT_TYPE_CNAME, "c2.example.");
	add_name(Z, "c2.example.", CT_TYPE_CNAME, "www.example.");
	add_name(Z, "loop1.example.", CT_TYPE_CNAME, "loop2.example.");
	add_name(Z, "loop2.example.", CT_TYPE_CNAME, "loop1.example.");
	add_name(Z, "out.example.", CT_TYPE_CNAME, "www.elsewhere.");
	add_a(Z, "a.b.c.example.", 3);
	add_a(Z, "*.wild.example.", 4);
	add_a(Z, "host.wild.example.", 5);
	add_name(Z, "sub.example.", CT_TYPE_NS, "ns.sub.example.");
	add_name(Z, "sub.example.", CT_TYPE_NS, "ns.other.");
	add_a(Z, "ns.sub.example.", 6);
	uint8_t big[255];
	memset(big, 'x', sizeof(big));
	big[0] = 254;
	for (int i = 0; i < 8; i++) {
		big[1] = (uint8_t)('a' + i);
		add(Z, "big.example.", CT_TYPE_TXT, 300, big, 255);
	}

	ct_answer_ctx_t ctx;
	is_int(ct_answer_init(&ctx, &store), CT_EOK, "answer context");
	is_int(ct_answer_init(&plain, &store), CT_EOK, "answer context without cache");
	ct_answer_cache_off(&plain);
	static resp_t r;

	ask(&ctx, "www.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.aa && r.an == 2 && r.ns == 0 && r.ar == 0, "hit: AA, two A");
	ask(&ctx, "WwW.ExAmPlE.", CT_TYPE_A, false, false, &r);
	ok(memcmp(r.buf + 12, "\x03" "WwW" "\x07" "ExAmPlE", 12) == 0 && r.an == 2, "case echoed");
	ask(&ctx, "www.example.", CT_TYPE_AAAA, false, false, &r);
	ok(r.rcode == 0 && r.aa && r.an == 0 && r.ns == 1, "NODATA with SOA");
	/* the SOA's TTL is min(3600, 60) */
	size_t soa_ttl_at = 12 + 13 + 4 + 2 + 4; /* question, then owner pointer, type, class */
	is_int(ct_get32(r.buf + soa_ttl_at), 60, "negative TTL is the SOA minimum");
	ask(&ctx, "nope.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == CT_RCODE_NXDOMAIN && r.aa && r.ns == 1, "NXDOMAIN with SOA");
	ask(&ctx, "b.c.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 0 && r.ns == 1, "empty non-terminal is NODATA");
	ask(&ctx, "c.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 0 && r.ns == 1, "two-level empty non-terminal is NODATA");
	ask(&ctx, "c1.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.aa && r.an == 4, "CNAME chain followed: 2 CNAME + 2 A");
	ask(&ctx, "c1.example.", CT_TYPE_CNAME, false, false, &r);
	ok(r.rcode == 0 && r.an == 1, "CNAME query gets the CNAME only");
	ask(&ctx, "loop1.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 2, "CNAME loop cut after one round");
	ask(&ctx, "out.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 1 && r.ns == 0, "CNAME out of zone: just the CNAME");
	ask(&ctx, "x.wild.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 1 && memcmp(r.buf + r.len - 16, "\xC0\x0C", 2) == 0,
	   "wildcard synthesised with the query name as owner");
	ask(&ctx, "x.y.wild.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 1, "wildcard covers deeper names");
	ask(&ctx, "x.wild.example.", CT_TYPE_MX, false, false, &r);
	ok(r.rcode == 0 && r.an == 0 && r.ns == 1, "wildcard NODATA");
	ask(&ctx, "x.host.wild.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == CT_RCODE_NXDOMAIN, "closer encloser blocks the wildcard");
	ask(&ctx, "www.sub.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && !r.aa && r.an == 0 && r.ns == 2 && r.ar == 1, "referral with glue");
	ask(&ctx, "sub.example.", CT_TYPE_NS, false, false, &r);
	ok(r.rcode == 0 && !r.aa && r.ns == 2, "NS at the cut is a referral");
	ask(&ctx, "sub.example.", CT_TYPE_DS, false, false, &r);
	ok(r.rcode == 0 && r.aa && r.ns == 1 && r.an == 0, "DS at the cut answered by the parent");
	ask(&ctx, "www.other.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == CT_RCODE_REFUSED && !r.aa, "outside our zones: REFUSED");
	ask(&ctx, "example.", CT_TYPE_ANY, false, false, &r);
	ok(r.rcode == 0 && r.an == 1, "ANY: one RRset (RFC 8482)");
	ask(&ctx, "big.example.", CT_TYPE_TXT, false, false, &r);
	ok(r.tc && r.an == 0 && r.len <= 512, "UDP without EDNS truncates whole");
	ask(&ctx, "big.example.", CT_TYPE_TXT, false, true, &r);
	ok(r.tc && r.len <= CT_EDNS_MAX_UDP && r.ar == 1, "EDNS: 1232 cap, OPT kept");
	ask(&ctx, "big.example.", CT_TYPE_TXT, true, false, &r);
	ok(!r.tc && r.an == 8, "TCP: the full answer");
	ask(&ctx, "www.example.", CT_TYPE_AXFR, true, false, &r);
	is_int(r.rcode, CT_RCODE_REFUSED, "AXFR refused");

	/* a change committed after the context exists is seen by the next query */
	add_a(Z, "new.example.", 9);
	ask(&ctx, "new.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 1, "committed change answered at once");

	/* the answer cache: letter case of the question kept, a change seen at once */
	ask(&ctx, "WwW.ExAmple.", CT_TYPE_A, false, false, &r);
	ok(r.an == 2 && memcmp(r.buf + 13, "WwW", 3) == 0, "cached answer keeps the question's case");
	add_a(Z, "www.example.", 7);
	ask(&ctx, "www.example.", CT_TYPE_A, false, false, &r);
	ok(r.an == 3, "a record added to a cached name is answered at once");
	ok(ct_counter_get(&ctx.cache_hits) > 0 && ct_counter_get(&plain.cache_hits) == 0,
	   "repeated queries came from the cache (%llu hits)",
	   (unsigned long long)ct_counter_get(&ctx.cache_hits));
	/* a name of more labels than the compression table holds: names below the question are
	 * written out, in its case, so they are not cached (found by tests/fuzz/query) */
	char deep[256] = "";
	for (int i = 0; i < CT_WIRE_COMP_MAX + 4; i++) {
		strcat(deep, "a.");
	}
	strcat(deep, "sub.example.");
	ask(&ctx, deep, CT_TYPE_A, false, false, &r);
	memcpy(strstr(deep, "sub"), "SuB", 3);
	ask(&ctx, deep, CT_TYPE_A, false, false, &r);
	size_t qend = 12 + strlen(deep) + 1 + 4; /* the wire name is one byte longer */
	ok(r.ns == 2 && memmem(r.buf + qend, r.len - qend, "\003SuB", 4) != NULL,
	   "referral below a question of %d labels: its owner in the question's case",
	   CT_WIRE_COMP_MAX + 6);
	is_int(repeat_differs, 0, "%d queries asked again and without the cache: same bytes",
	       repeat_checked);
	is_int(prefetch_wrong, 0, "each query's prefetch token is its cache hash");
	{
		/* hints for what is no cacheable question: nothing to fetch, nothing read past */
		uint8_t bad[64] = { 0xAB, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0,
				    0, 1, 0, 1 };
		is_int(ct_answer_prefetch(&ctx, bad, 11), 0, "prefetch: shorter than a header");
		is_int(ct_answer_prefetch(&ctx, bad, 19), 0, "prefetch: type cut off");
		is_int(ct_answer_prefetch(&ctx, bad, 15), 0, "prefetch: name cut off");
		ok(ct_answer_prefetch(&ctx, bad, 21) != 0, "prefetch: a whole question");
		bad[5] = 0;
		is_int(ct_answer_prefetch(&ctx, bad, 21), 0, "prefetch: no question");
		bad[5] = 1;
		bad[12] = 0xC0;
		is_int(ct_answer_prefetch(&ctx, bad, 21), 0, "prefetch: a pointer, not a name");
		ct_answer_prefetch_entry(&ctx, 0);
		ok(true, "prefetch_entry of token 0 touches nothing");
	}
	check_repeat = false;

	/* pools: one group per answer, preview names, NODATA for the other family */
	static ct_pool_t pool = { .type = CT_TYPE_A, .ttl = 30, .ngroups = 2,
				  .groups = { { .name = "blue", .weight = 100, .ntargets = 2,
						.targets = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } } },
					      { .name = "green", .weight = 0, .ntargets = 1,
						.targets = { { 10, 0, 1, 1 } } } } };
	uint8_t owner[256];
	wire("api.example.", owner);
	ct_txn_t txn;
	bool changed;
	char err[256] = "";
	ct_txn_begin(&store, &txn, true);
	ct_pool_put(&txn, owner, &pool, "test", "pool set", &changed, err, sizeof(err));
	is_int(ct_txn_commit(&txn), CT_EOK, "pool written %s", err);
	ask(&ctx, "api.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.aa && r.an == 2 && r.buf[r.len - 4] == 10 && r.buf[r.len - 2] == 0,
	   "pool answers blue's two targets");
	int at_qname = 0;
	for (int i = 0; i < 20; i++) {
		ask(&ctx, "api.example.", CT_TYPE_A, false, false, &r);
		at_qname += answer_at_qname(&r, "api.example.");
	}
	is_int(at_qname, 20, "pool answers, looked up and from the cache, owned by the query name");
	ask(&ctx, "api.example.", CT_TYPE_A, false, false, &r);
	uint8_t first = r.buf[r.len - 1];
	ask(&ctx, "api.example.", CT_TYPE_A, false, false, &r);
	ok(r.buf[r.len - 1] != first, "targets rotate between answers");
	ask(&ctx, "green.api.example.", CT_TYPE_A, false, false, &r);
	ok(r.rcode == 0 && r.an == 1 && r.buf[r.len - 2] == 1, "preview name answers green");
	ask(&ctx, "api.example.", CT_TYPE_AAAA, false, false, &r);
	ok(r.rcode == 0 && r.an == 0 && r.ns == 1, "AAAA at an A pool: NODATA");
	ask(&ctx, "api.example.", CT_TYPE_ANY, false, false, &r);
	ok(r.rcode == 0 && r.an == 2, "ANY at a pool: the pool's answer");
	/* a CNAME to a pool: the cached plan keeps the target's name, which lived on lookup's
	 * stack until the fuzzer found it read after return (tests/fuzz/corpus/query/crash-*) */
	add_name(Z, "toapi.example.", CT_TYPE_CNAME, "api.example.");
	for (int i = 0; i < 2; i++) {
		ask(&ctx, "toapi.example.", CT_TYPE_A, false, false, &r);
		size_t pos = 12 + 15 + 4 + 2 + 8; /* question, CNAME owner, type..ttl */
		pos += 2 + ct_get16(r.buf + pos);
		uint8_t a_owner[CT_DNAME_MAXLEN];
		int n = ct_dname_unpack(r.buf, r.len, &pos, a_owner);
		ok(r.an == 3 && n > 0 && ct_dname_eq(a_owner, owner),
		   "CNAME to a pool, %s: the pool's records under its name", i ? "cached" : "built");
	}
	pool.groups[0].weight = 0;
	pool.groups[1].weight = 100;
	pool.policy = CT_POLICY_STICKY;
	ct_txn_begin(&store, &txn, true);
	ct_pool_put(&txn, owner, &pool, "test", "cutover green", &changed, err, sizeof(err));
	is_int(ct_txn_commit(&txn), CT_EOK, "cutover written");
	static const uint8_t ecs[] = { 0, 8, 0, 8, 0, 1, 32, 0, 192, 0, 2, 1 };
	ecs_opt = ecs;
	ecs_opt_len = sizeof(ecs);
	ask(&ctx, "api.example.", CT_TYPE_A, false, true, &r);
	ok(r.rcode == 0 && r.an == 1, "sticky with ECS answers green");
	/* reply ends with the OPT: ... option 8, len 8, family 1, source 32, scope 24, addr */
	is_mem(r.buf + r.len - 12, 12, "\x00\x08\x00\x08\x00\x01\x20\x18\xc0\x00\x02\x01", 12,
	       "ECS echoed with scope 24");
	ask(&ctx, "www.example.", CT_TYPE_A, false, true, &r);
	ok(r.buf[r.len - 5] == 0, "static answers: ECS scope 0");
	ecs_opt = NULL;

	ct_answer_deinit(&ctx);
	ct_answer_deinit(&plain);
	ct_store_close(&store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		diag("cleanup failed");
	}
	done_testing();
	return exit_status();
}
