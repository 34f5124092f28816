/* SPDX-License-Identifier: MIT */
/* Fuzz target: raw query bytes through the whole answer path (ct_answer) against a fixture
 * database with static records of many kinds and pools of every policy and health state.
 *
 * Input: byte 0 chooses the transport (bit 0: TCP), the source address (bits 1-3, an index
 * into sources[]), whether the query is answered inside a batch as UDP datagrams are (bit 4)
 * and whether a commit comes first (bit 5); the rest is the DNS message as received. Every reply must fit its buffer,
 * echo the ID and opcode, have QR set, respect the UDP size limits and parse as a DNS message;
 * and it must be the very reply a context without the answer cache gives. */
#include "fuzz.h"
#include "poolfile.h"
#include "cutover/answer.h"
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/log.h"
#include "cutover/query.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>

static const char zone_text[] =
    "$ORIGIN fuzz.example.\n"
    "$TTL 300\n"
    "@ 3600 IN SOA ns1 hostmaster 1 7200 900 1209600 60\n"
    "  IN NS ns1\n"
    "  IN NS ns2.elsewhere.example.\n"
    "  IN MX 10 mail\n"
    "  IN MX 20 mx.other.example.\n"
    "  IN TXT \"v=spf1 -all\"\n"
    "  IN CAA 0 issue \"ca.example.net\"\n"
    "ns1 IN A 192.0.2.53\n"
    "    IN AAAA 2001:db8::53\n"
    "www IN A 192.0.2.10\n"
    "    IN A 192.0.2.11\n"
    "    IN AAAA 2001:db8::10\n"
    "mail IN A 192.0.2.25\n"
    "alias IN CNAME www\n"
    "chain IN CNAME alias\n"
    "loop1 IN CNAME loop2\n"
    "loop2 IN CNAME loop1\n"
    "out IN CNAME www.other.example.\n"
    "toapi IN CNAME api\n"
    "toshop IN CNAME pv-green.shop\n"
    "*.wild IN A 192.0.2.80\n"
    "*.wild IN TXT \"wild\"\n"
    "host.wild IN A 192.0.2.81\n"
    "*.cw IN CNAME www\n"
    "a.b.c IN A 192.0.2.3\n"
    "sub IN NS ns.sub\n"
    "sub IN NS ns.other.example.\n"
    "sub IN DS 12345 13 2 "
    "0000000000000000000000000000000000000000000000000000000000000000\n"
    "ns.sub IN A 192.0.2.54\n"
    "ns.sub IN AAAA 2001:db8::54\n"
    "_https._tcp IN SRV 0 5 443 www\n"
    "ptr IN PTR www\n"
    "h IN HINFO \"cpu\" \"os\"\n"
    "big IN TXT \"%s1\"\n"
    "big IN TXT \"%s2\"\n"
    "big IN TXT \"%s3\"\n"
    "big IN TXT \"%s4\"\n"
    "big IN TXT \"%s5\"\n"
    "big IN TXT \"%s6\"\n"
    "big IN TXT \"%s7\"\n"
    "big IN TXT \"%s8\"\n"
    "MiXeD.CaSe IN A 192.0.2.99\n";

static const char pool_text[] =
    "pool api.fuzz.example. A\n"
    "  group blue weight 70 192.0.2.100 192.0.2.101\n"
    "  group green weight 30 198.51.100.100\n"
    "pool api.fuzz.example. AAAA\n"
    "  group blue weight 100 2001:db8:b::1 2001:db8:b::2\n"
    "  group green weight 0 2001:db8:9::1\n"
    "pool shop.fuzz.example. A\n"
    "  policy sticky\n  answers 1\n  preview-prefix \"pv-\"\n  ttl 60\n"
    "  group blue weight 90 192.0.2.20 192.0.2.21\n"
    "  group green weight 10 198.51.100.20 198.51.100.21\n"
    "pool shop.fuzz.example. AAAA\n"
    "  policy sticky\n  preview-prefix \"pv-\"\n"
    "  group blue weight 50 2001:db8:b::20\n"
    "  group green weight 50 2001:db8:9::20\n"
    "pool login.fuzz.example. A\n"
    "  policy failover\n  preview off\n  check tcp:80\n"
    "  group east weight 100 192.0.2.30\n"
    "  group west weight 100 198.51.100.30\n"
    "pool dead.fuzz.example. A\n"
    "  check http:80/health\n"
    "  group blue weight 100 192.0.2.40 192.0.2.41\n"
    "  group green weight 0\n"
    "pool gone.fuzz.example. A\n"
    "  check tcp:80\n  all-down nodata\n"
    "  group blue weight 100 192.0.2.50\n"
    "pool many.fuzz.example. A\n"
    "  answers 3\n"
    "  group a weight 1 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6\n"
    "  group b weight 1 10.0.1.1 10.0.1.2 10.0.1.3 10.0.1.4 10.0.1.5 10.0.1.6\n"
    "  group c weight 0 10.0.2.1\n";

/* Targets held out of answers: down by the prober, or drained. */
static const struct {
	const char *owner;
	const char *addr;
	uint8_t state;
	bool drained;
} health[] = {
	{ "login.fuzz.example.", "192.0.2.30", CT_HEALTH_DOWN, false },
	{ "dead.fuzz.example.", "192.0.2.40", CT_HEALTH_DOWN, false },
	{ "dead.fuzz.example.", "192.0.2.41", CT_HEALTH_UP, true },
	{ "gone.fuzz.example.", "192.0.2.50", CT_HEALTH_DOWN, false },
	{ "api.fuzz.example.", "198.51.100.100", CT_HEALTH_UP, false },
	{ "many.fuzz.example.", "10.0.0.3", CT_HEALTH_DOWN, false },
};

static ct_store_t store;
static ct_answer_ctx_t ctx, plain; /* with the answer cache, and without */
static struct sockaddr_storage sources[8];
static uint8_t *resp_udp, *resp_tcp; /* sized exactly, so that ASan sees any overrun */
static uint8_t *resp_plain;

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz query: building the fixture: %s: %s\n", what, detail);
	abort();
}

static void report_zone(void *c, int prio, const char *msg)
{
	if (prio == CT_LOG_ERR) {
		fail("zone", msg);
	}
}

static void report_pool(void *c, const char *msg)
{
	fail("pools", msg);
}

static void load_zone(ct_txn_t *txn)
{
	char big[250], *text, path[4096];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	int n = asprintf(&text, zone_text, big, big, big, big, big, big, big, big);
	if (n < 0) {
		fail("zone", "out of memory");
	}
	fuzz_write("fixture.zone", text, (size_t)n, path);
	free(text);
	ct_zonefile_t zf;
	ct_zonefile_init(&zf, report_zone, NULL);
	if (ct_zonefile_parse(&zf, path, NULL) != CT_EOK || ct_zonefile_validate(&zf) != CT_EOK ||
	    ct_zonefile_write(&zf, txn) != CT_EOK) {
		fail("zone", ct_strerror(txn->ret));
	}
	ct_zonefile_deinit(&zf);
}

static void load_pools(ct_txn_t *txn)
{
	ct_poolfile_t pf;
	ct_poolfile_init(&pf, report_pool, NULL);
	FILE *in = fmemopen((void *)pool_text, strlen(pool_text), "r");
	if (in == NULL || ct_poolfile_parse(&pf, in, "fixture.pools") != CT_EOK) {
		fail("pools", "cannot read");
	}
	fclose(in);
	for (size_t i = 0; i < pf.count; i++) {
		bool changed;
		char err[256] = "";
		if (ct_pool_put(txn, pf.pools[i].owner, &pf.pools[i].pool, "fuzz", "fixture",
		                &changed, err, sizeof(err)) != CT_EOK) {
			fail("pools", err);
		}
	}
	ct_poolfile_deinit(&pf);
}

static void put_health(ct_txn_t *txn, const char *name, const char *text, uint8_t state,
		       bool drained)
{
	uint8_t owner[CT_DNAME_MAXLEN], key[CT_RR_KEY_MAXLEN], addr[16];
	size_t klen = 0;
	char err[256] = "";
	int fam = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	if (ct_zonefile_parse_name(name, owner) < 0 || inet_pton(fam, text, addr) != 1 ||
	    ct_pool_key(txn, owner, fam == AF_INET ? CT_TYPE_A : CT_TYPE_AAAA, key, &klen, err,
	                sizeof(err)) != CT_EOK) {
		fail("health", name);
	}
	ct_health_t h = { .state = state, .drained = drained, .since_ms = 1, .last_ms = 1 };
	ct_health_put(txn, key, klen, addr, fam == AF_INET ? 4 : 16, &h);
}

static void load_health(ct_txn_t *txn)
{
	for (size_t i = 0; i < sizeof(health) / sizeof(health[0]); i++) {
		put_health(txn, health[i].owner, health[i].addr, health[i].state, health[i].drained);
	}
}

/* A commit between two queries: api's green target goes down or comes back up. */
static void flip_health(void)
{
	static bool down;
	down = !down;
	ct_txn_t txn;
	ct_txn_begin(&store, &txn, true);
	put_health(&txn, "api.fuzz.example.", "198.51.100.100",
	           down ? CT_HEALTH_DOWN : CT_HEALTH_UP, false);
	if (ct_txn_commit(&txn) != CT_EOK) {
		fail("health flip", ct_strerror(txn.ret));
	}
}

static void set_source(size_t i, int fam, const char *text)
{
	if (fam == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sources[i];
		in->sin_family = AF_INET;
		in->sin_port = htons(5353);
		inet_pton(AF_INET, text, &in->sin_addr);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sources[i];
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(5353);
		inet_pton(AF_INET6, text, &in6->sin6_addr);
	}
}

static void setup(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/db", fuzz_dir());
	ct_store_opts_t opts = { .create = true, .map_size = 64 << 20 };
	if (ct_store_open(&store, path, &opts) != CT_EOK) {
		fail("store", ct_store_last_error());
	}
	ct_txn_t txn;
	ct_txn_begin(&store, &txn, true);
	load_zone(&txn);
	load_pools(&txn);
	load_health(&txn);
	if (ct_txn_commit(&txn) != CT_EOK) {
		fail("commit", ct_strerror(txn.ret));
	}
	if (ct_answer_init(&ctx, &store) != CT_EOK || ct_answer_init(&plain, &store) != CT_EOK) {
		fail("answer context", "cannot open a reader");
	}
	ct_answer_cache_off(&plain);
	/* 0 stays unset: no source address */
	set_source(1, AF_INET, "127.0.0.1");
	set_source(2, AF_INET, "192.0.2.7");
	set_source(3, AF_INET, "203.0.113.200");
	set_source(4, AF_INET6, "::1");
	set_source(5, AF_INET6, "2001:db8:1234::7");
	set_source(6, AF_INET6, "::ffff:198.51.100.9");
	set_source(7, AF_INET6, "fe80::1");
	resp_udp = malloc(CT_EDNS_MAX_UDP);
	resp_tcp = malloc(65535);
	resp_plain = malloc(65535);
	if (resp_udp == NULL || resp_tcp == NULL || resp_plain == NULL) {
		fail("buffers", "out of memory");
	}
	ct_log_set_level(CT_LOG_ERR - 1); /* per-packet messages are not what we look at */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ctx.pools == NULL) {
		setup();
	}
	if (size < 1) {
		return 0;
	}
	bool tcp = (data[0] & 1) != 0, batch = (data[0] & 0x10) != 0;
	unsigned si = (data[0] >> 1) & 7;
	if (data[0] & 0x20) {
		flip_health();
	}
	const struct sockaddr *src = si == 0 ? NULL : (const struct sockaddr *)&sources[si];
	const uint8_t *pkt = data + 1;
	size_t len = size - 1;
	/* what cutoverd's receive buffers can hold */
	if (len > (tcp ? 65535 : 4096)) {
		return -1;
	}
	uint8_t *resp = tcp ? resp_tcp : resp_udp;
	size_t cap = tcp ? 65535 : CT_EDNS_MAX_UDP;
	/* the same input takes the same path, with the cache or without */
	ct_rng_seed(&ctx.rng, 1);
	ct_rng_seed(&plain.rng, 1);
	ctx.rotate = plain.rotate = 0;
	if (batch) {
		ct_answer_batch_begin(&ctx);
		/* as a UDP batch does: the hints read the raw datagram first, and the answer
		 * takes the token as its cache hash */
		ctx.token = ct_answer_prefetch(&ctx, pkt, len);
		ct_answer_prefetch_entry(&ctx, ctx.token);
	}
	size_t n = ct_answer(&ctx, pkt, len, tcp, src, resp, cap);
	if (batch) {
		ct_answer_batch_end(&ctx);
	}
	size_t m = ct_answer(&plain, pkt, len, tcp, src, resp_plain, cap);
	if (n != m || memcmp(resp, resp_plain, n) != 0) {
		size_t at = 0;
		while (at < n && at < m && resp[at] == resp_plain[at]) {
			at++;
		}
		fprintf(stderr, "fuzz query: the answer cache changed the reply (%zu, %zu bytes, "
		        "from byte %zu)\n", n, m, at);
		for (size_t i = 0; i < n || i < m; i++) {
			fprintf(stderr, "%s%02x/%02x", i % 16 == 0 ? "\n" : " ", i < n ? resp[i] : 0,
			        i < m ? resp_plain[i] : 0);
		}
		fprintf(stderr, "\n");
		abort();
	}

	ct_query_t q;
	int parsed = ct_query_parse(pkt, len, &q);
	if (parsed == CT_QUERY_DROP) {
		fuzz_assert(n == 0);
		return 0;
	}
	fuzz_assert(n >= CT_WIRE_HDRLEN && n <= cap);
	fuzz_assert(ct_get16(resp) == ct_get16(pkt));            /* ID echoed */
	fuzz_assert((resp[2] & 0x80) != 0);                        /* QR */
	fuzz_assert(((resp[2] >> 3) & 0x0F) == ((pkt[2] >> 3) & 0x0F)); /* opcode */
	fuzz_assert(ct_get16(resp + 4) <= 1);
	int rcode = resp[3] & 0x0F;
	fuzz_assert(rcode != CT_RCODE_SERVFAIL); /* the fixture database is sound */
	if (parsed != CT_RCODE_NOERROR) {
		fuzz_assert(rcode == (parsed & 0x0F)); /* BADVERS: 16, low bits 0 */
		fuzz_assert(ct_wire_count(resp, CT_SEC_ANSWER) == 0);
	}
	if (tcp) {
		fuzz_assert((resp[2] & 0x02) == 0); /* TCP answers are complete */
	} else {
		size_t limit = q.edns ? (q.udp_size < CT_EDNS_MAX_UDP ? q.udp_size : CT_EDNS_MAX_UDP)
		                      : 512;
		fuzz_assert(n <= limit);
	}
	if (q.has_question) {
		fuzz_assert(ct_get16(resp + 4) == 1);
		fuzz_assert(memcmp(resp + CT_WIRE_HDRLEN, pkt + CT_WIRE_HDRLEN,
		                   q.question_end - CT_WIRE_HDRLEN) == 0); /* letter case kept */
	}
	/* the whole reply reads back as a DNS message: counts, names, pointers, rdata lengths */
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, resp, n);
	if (st != LDNS_STATUS_OK) {
		fprintf(stderr, "fuzz query: reply does not parse: %s\n",
		        ldns_get_errorstr_by_id(st));
		abort();
	}
	ldns_pkt_free(p);
	return 0;
}
