/* SPDX-License-Identifier: MIT */
/* Unit tests: group selection (weighted, sticky, failover), the client-subnet hash and the PRNG. */
#include "cutover/select.h"
#include "cutover/errcode.h"
#include "cutover/pool.h"
#include "cutover/wire.h"
#include "tap.h"

#include <arpa/inet.h>
#include <math.h>
#include <sys/socket.h>

#define NCLIENTS 10000
#define NDRAWS   100000

static const bool ALL_LIVE[CT_POOL_MAX_GROUPS] = { true, true, true, true, true, true, true, true,
						    true, true, true, true, true, true, true, true };

/* ct_pool_t is large: one static scratch pool, and a value buffer per view (a view points into
 * its value). */
static ct_pool_t scratch;

/*
 * A view built through the codec (ct_pool_encode + ct_pool_view_parse), as the query path sees
 * pools: n groups named names[g] with weights[g] and one target 192.0.2.(g+1) each.
 */
static void make_view(ct_pool_view_t *v, uint8_t *buf, uint8_t policy, int n,
		      const char *const *names, const uint32_t *weights)
{
	memset(&scratch, 0, sizeof(scratch));
	scratch.type = CT_TYPE_A;
	scratch.policy = policy;
	scratch.ttl = 30;
	scratch.ngroups = (uint8_t)n;
	for (int g = 0; g < n; g++) {
		ct_pool_group_t *gr = &scratch.groups[g];
		snprintf(gr->name, sizeof(gr->name), "%s", names[g]);
		gr->weight = weights[g];
		gr->ntargets = 1;
		gr->targets[0][0] = 192;
		gr->targets[0][1] = 0;
		gr->targets[0][2] = 2;
		gr->targets[0][3] = (uint8_t)(g + 1);
	}
	char err[256];
	if (ct_pool_check(&scratch, err, sizeof(err)) != CT_EOK) {
		diag("test pool rejected: %s", err);
		exit(1);
	}
	size_t len = ct_pool_encode(&scratch, buf);
	if (ct_pool_view_parse(buf, len, v) != CT_EOK || v->ngroups != n) {
		diag("test pool does not parse back");
		exit(1);
	}
}

static void set_weights(ct_pool_view_t *v, const uint32_t *weights)
{
	for (int g = 0; g < v->ngroups; g++) {
		v->groups[g].weight = weights[g];
	}
}

/* Percentage of NDRAWS weighted picks (fresh PRNG with this seed) that went to each group. */
static int draw(const ct_pool_view_t *v, const bool *live, uint64_t seed, double *pct)
{
	long count[CT_POOL_MAX_GROUPS + 1] = { 0 };
	ct_rng_t rng;
	ct_rng_seed(&rng, seed);
	int bad = 0;
	for (int i = 0; i < NDRAWS; i++) {
		int g = ct_select_group(v, live, ct_rng_next(&rng), 0);
		if (g < 0 || g >= v->ngroups) {
			bad++;
			continue;
		}
		count[g]++;
	}
	for (int g = 0; g < v->ngroups; g++) {
		pct[g] = 100.0 * (double)count[g] / NDRAWS;
	}
	return bad;
}

static bool near(double got, double want, double tol)
{
	return fabs(got - want) <= tol;
}

/* 10k distinct client subnets 10.x.y.0/24. */
static uint64_t clients[NCLIENTS];

static void make_clients(void)
{
	for (int i = 0; i < NCLIENTS; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 8), (uint8_t)(i & 0xFF), 0 };
		clients[i] = ct_select_client_hash(AF_INET, a, 24);
	}
}

/* The sticky group of every client (rnd varies per call: it must not matter). */
static void assign(const ct_pool_view_t *v, const bool *live, int *out)
{
	ct_rng_t rng;
	ct_rng_seed(&rng, 77);
	for (int i = 0; i < NCLIENTS; i++) {
		out[i] = ct_select_group(v, live, ct_rng_next(&rng), clients[i]);
	}
}

static void test_weighted(void)
{
	static uint8_t buf[CT_POOL_VALUE_MAX];
	const char *bg[] = { "blue", "green", "red" };
	ct_pool_view_t v;
	double pct[CT_POOL_MAX_GROUPS];

	make_view(&v, buf, CT_POLICY_WEIGHTED, 2, bg, (const uint32_t[]){ 90, 10 });
	is_int(draw(&v, ALL_LIVE, 1, pct), 0, "weighted 90/10: every pick is a group");
	ok(near(pct[1], 10.0, 0.5), "weighted 90/10: green %.2f%% of %d picks (10 +- 0.5)", pct[1],
	   NDRAWS);
	ok(near(pct[0], 90.0, 0.5), "weighted 90/10: blue %.2f%%", pct[0]);

	set_weights(&v, (const uint32_t[]){ 1, 1 });
	draw(&v, ALL_LIVE, 2, pct);
	ok(near(pct[0], 50.0, 0.5) && near(pct[1], 50.0, 0.5), "weighted 1/1: %.2f%% / %.2f%%",
	   pct[0], pct[1]);

	make_view(&v, buf, CT_POLICY_WEIGHTED, 3, bg, (const uint32_t[]){ 50, 30, 20 });
	draw(&v, ALL_LIVE, 3, pct);
	ok(near(pct[0], 50.0, 0.5) && near(pct[1], 30.0, 0.5) && near(pct[2], 20.0, 0.5),
	   "weighted 50/30/20: %.2f%% / %.2f%% / %.2f%%", pct[0], pct[1], pct[2]);

	/* Weight 0 is never chosen, whatever the random number. */
	make_view(&v, buf, CT_POLICY_WEIGHTED, 2, bg, (const uint32_t[]){ 100, 0 });
	draw(&v, ALL_LIVE, 4, pct);
	ok(pct[1] == 0.0, "weighted 100/0: green never chosen (%.3f%%)", pct[1]);
	set_weights(&v, (const uint32_t[]){ 0, 100 });
	draw(&v, ALL_LIVE, 5, pct);
	ok(pct[0] == 0.0, "weighted 0/100: blue never chosen (%.3f%%)", pct[0]);
	is_int(ct_select_group(&v, ALL_LIVE, 0, 0), 1, "weighted 0/100, rnd 0: green");
	is_int(ct_select_group(&v, ALL_LIVE, UINT64_MAX, 0), 1, "weighted 0/100, rnd max: green");
	set_weights(&v, (const uint32_t[]){ 100, 0 });
	is_int(ct_select_group(&v, ALL_LIVE, 0, 0), 0, "weighted 100/0, rnd 0: blue");
	is_int(ct_select_group(&v, ALL_LIVE, UINT64_MAX, 0), 0, "weighted 100/0, rnd max: blue");
	set_weights(&v, (const uint32_t[]){ 1, 0 });
	is_int(ct_select_group(&v, ALL_LIVE, 99, 0), 0, "weighted 1/0, rnd 99: blue");

	make_view(&v, buf, CT_POLICY_WEIGHTED, 3, bg, (const uint32_t[]){ 50, 0, 50 });
	draw(&v, ALL_LIVE, 6, pct);
	ok(pct[1] == 0.0 && near(pct[0], 50.0, 0.5) && near(pct[2], 50.0, 0.5),
	   "weighted 50/0/50: the middle group never, the others %.2f%% / %.2f%%", pct[0], pct[2]);

	/* All zero: every group counts equally (documented, as Route 53 does). */
	make_view(&v, buf, CT_POLICY_WEIGHTED, 2, bg, (const uint32_t[]){ 0, 0 });
	is_int(draw(&v, ALL_LIVE, 7, pct), 0, "weighted 0/0: every pick is a group");
	ok(near(pct[0], 50.0, 0.5) && near(pct[1], 50.0, 0.5), "weighted 0/0: equal, %.2f%% / %.2f%%",
	   pct[0], pct[1]);
	make_view(&v, buf, CT_POLICY_WEIGHTED, 3, bg, (const uint32_t[]){ 0, 0, 0 });
	draw(&v, ALL_LIVE, 8, pct);
	ok(near(pct[0], 100.0 / 3, 0.5) && near(pct[1], 100.0 / 3, 0.5) &&
		   near(pct[2], 100.0 / 3, 0.5),
	   "weighted 0/0/0: equal, %.2f%% / %.2f%% / %.2f%%", pct[0], pct[1], pct[2]);

	/* Dead groups (no live target) are skipped. */
	make_view(&v, buf, CT_POLICY_WEIGHTED, 2, bg, (const uint32_t[]){ 90, 10 });
	draw(&v, (const bool[]){ false, true }, 9, pct);
	ok(pct[1] == 100.0, "weighted 90/10, blue dead: always green (%.3f%%)", pct[1]);
	draw(&v, (const bool[]){ true, false }, 10, pct);
	ok(pct[0] == 100.0, "weighted 90/10, green dead: always blue (%.3f%%)", pct[0]);
	set_weights(&v, (const uint32_t[]){ 100, 0 });
	draw(&v, (const bool[]){ false, true }, 11, pct);
	ok(pct[1] == 100.0, "weighted 100/0, blue dead: the live weight-0 group (%.3f%%)", pct[1]);
	make_view(&v, buf, CT_POLICY_WEIGHTED, 3, bg, (const uint32_t[]){ 0, 100, 0 });
	draw(&v, (const bool[]){ true, false, true }, 12, pct);
	ok(pct[1] == 0.0 && near(pct[0], 50.0, 0.5) && near(pct[2], 50.0, 0.5),
	   "weighted 0/100/0, the 100 dead: the two live groups equally, %.2f%% / %.2f%%", pct[0],
	   pct[2]);
	is_int(ct_select_group(&v, (const bool[]){ false, false, false }, 5, 5), -1,
	       "weighted, no group live: -1");
	set_weights(&v, (const uint32_t[]){ 0, 0, 0 });
	is_int(ct_select_group(&v, (const bool[]){ false, false, false }, 5, 5), -1,
	       "weighted all zero, no group live: -1");
}

static void test_sticky(void)
{
	static uint8_t buf[CT_POOL_VALUE_MAX], buf2[CT_POOL_VALUE_MAX];
	static int before[NCLIENTS], after[NCLIENTS];
	const char *names[] = { "blue", "green", "red" };
	ct_pool_view_t v, v2;

	/* Same client, same group, whatever rnd is. */
	make_view(&v, buf, CT_POLICY_STICKY, 2, names, (const uint32_t[]){ 90, 10 });
	assign(&v, ALL_LIVE, before);
	ct_rng_t rng;
	ct_rng_seed(&rng, 5);
	int changed = 0, bad = 0;
	long green = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		for (int k = 0; k < 3; k++) {
			if (ct_select_group(&v, ALL_LIVE, ct_rng_next(&rng), clients[i]) != before[i]) {
				changed++;
			}
		}
		bad += before[i] < 0 || before[i] > 1;
		green += before[i] == 1;
	}
	is_int(bad, 0, "sticky 90/10: every client gets a group");
	is_int(changed, 0, "sticky 90/10: %d clients keep their group over 3 more picks", NCLIENTS);
	double pct = 100.0 * (double)green / NCLIENTS;
	ok(near(pct, 10.0, 1.5), "sticky 90/10: %.2f%% of %d clients on green (10 +- 1.5)", pct,
	   NCLIENTS);

	/* Different clients do not all land together at 50/50. */
	set_weights(&v, (const uint32_t[]){ 50, 50 });
	assign(&v, ALL_LIVE, before);
	green = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		green += before[i] == 1;
	}
	pct = 100.0 * (double)green / NCLIENTS;
	ok(near(pct, 50.0, 2.5), "sticky 50/50: %.2f%% on green", pct);

	/* Weight 0 never, all zero equal, dead skipped. */
	set_weights(&v, (const uint32_t[]){ 100, 0 });
	assign(&v, ALL_LIVE, before);
	green = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		green += before[i] != 0;
	}
	is_int(green, 0, "sticky 100/0: no client on green");
	set_weights(&v, (const uint32_t[]){ 0, 0 });
	assign(&v, ALL_LIVE, before);
	green = bad = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		green += before[i] == 1;
		bad += before[i] < 0;
	}
	pct = 100.0 * (double)green / NCLIENTS;
	ok(bad == 0 && near(pct, 50.0, 2.5), "sticky 0/0: all groups equal, %.2f%% on green", pct);
	set_weights(&v, (const uint32_t[]){ 90, 10 });
	assign(&v, (const bool[]){ false, true }, before);
	green = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		green += before[i] == 1;
	}
	is_int(green, NCLIENTS, "sticky 90/10, blue dead: every client on green");
	is_int(ct_select_group(&v, (const bool[]){ false, false }, 1, clients[0]), -1,
	       "sticky, no group live: -1");

	/*
	 * Monotonicity (rendezvous): raising group g's weight only moves clients into g — none out
	 * of g, none between two other groups — and some do move in.
	 */
	const uint32_t steps[][3] = { { 90, 10, 40 }, { 90, 11, 40 }, { 90, 50, 40 },
				      { 90, 100, 40 }, { 90, 1000, 40 }, { 90, 1000000, 40 } };
	for (int gi = 0; gi < 3; gi++) {
		int out_of_g = 0, between = 0, into = 0;
		for (size_t s = 0; s + 1 < sizeof(steps) / sizeof(steps[0]); s++) {
			uint32_t w0[3], w1[3];
			/* rotate the step pattern so that group gi is the one raised */
			for (int g = 0; g < 3; g++) {
				w0[(g + gi + 2) % 3] = steps[s][g];
				w1[(g + gi + 2) % 3] = steps[s + 1][g];
			}
			make_view(&v, buf, CT_POLICY_STICKY, 3, names, w0);
			assign(&v, ALL_LIVE, before);
			set_weights(&v, w1);
			assign(&v, ALL_LIVE, after);
			for (int i = 0; i < NCLIENTS; i++) {
				if (before[i] == gi && after[i] != gi) {
					out_of_g++;
				} else if (before[i] != gi && after[i] != gi && after[i] != before[i]) {
					between++;
				} else if (before[i] != gi && after[i] == gi) {
					into++;
				}
			}
		}
		is_int(out_of_g, 0, "sticky: raising %s's weight moves no client out of %s",
		       names[gi], names[gi]);
		is_int(between, 0, "sticky: raising %s's weight moves no client between the others",
		       names[gi]);
		ok(into > 0, "sticky: raising %s's weight moves clients into it (%d moves)", names[gi],
		   into);
	}

	/* And lowering a group's weight only moves clients out of it. */
	make_view(&v, buf, CT_POLICY_STICKY, 3, names, (const uint32_t[]){ 90, 50, 40 });
	assign(&v, ALL_LIVE, before);
	set_weights(&v, (const uint32_t[]){ 90, 10, 40 });
	assign(&v, ALL_LIVE, after);
	int wrong = 0, moved = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		wrong += before[i] != after[i] && before[i] != 1;
		moved += before[i] != after[i];
	}
	ok(wrong == 0 && moved > 0, "sticky: lowering green 50->10 moves only green's clients "
	   "(%d moved, %d wrongly)", moved, wrong);

	/* Killing a group (no live target, or weight 0) moves only its own clients. */
	make_view(&v, buf, CT_POLICY_STICKY, 3, names, (const uint32_t[]){ 90, 50, 40 });
	assign(&v, ALL_LIVE, before);
	assign(&v, (const bool[]){ true, true, false }, after);
	int spread[3] = { 0 };
	wrong = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		if (before[i] != 2) {
			wrong += after[i] != before[i];
		} else if (after[i] >= 0 && after[i] <= 2) {
			spread[after[i]]++;
		}
	}
	is_int(wrong, 0, "sticky: killing red moves no client of blue or green");
	ok(spread[2] == 0 && spread[0] > 0 && spread[1] > 0,
	   "sticky: red's clients go to blue (%d) and green (%d), none stay (%d)", spread[0],
	   spread[1], spread[2]);
	set_weights(&v, (const uint32_t[]){ 90, 50, 0 });
	assign(&v, ALL_LIVE, after);
	wrong = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		wrong += before[i] != 2 ? after[i] != before[i] : after[i] == 2;
	}
	is_int(wrong, 0, "sticky: red at weight 0 moves exactly red's clients");

	/* A new group only takes clients; reordering the groups moves nobody (keyed by name). */
	make_view(&v, buf, CT_POLICY_STICKY, 2, names, (const uint32_t[]){ 90, 50 });
	assign(&v, ALL_LIVE, before);
	make_view(&v2, buf2, CT_POLICY_STICKY, 3, names, (const uint32_t[]){ 90, 50, 40 });
	assign(&v2, ALL_LIVE, after);
	wrong = moved = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		wrong += after[i] != before[i] && after[i] != 2;
		moved += after[i] == 2;
	}
	ok(wrong == 0 && moved > 0, "sticky: adding red moves clients only into red (%d in, %d "
	   "elsewhere)", moved, wrong);
	const char *swapped[] = { "red", "green", "blue" };
	make_view(&v, buf, CT_POLICY_STICKY, 3, swapped, (const uint32_t[]){ 40, 50, 90 });
	assign(&v, ALL_LIVE, before);
	wrong = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		wrong += after[i] != 2 - before[i];
	}
	is_int(wrong, 0, "sticky: the same groups listed in another order keep every client");

	/* The hash decides, not the view's address: a view parsed from a copy picks the same. */
	make_view(&v, buf, CT_POLICY_STICKY, 3, names, (const uint32_t[]){ 90, 50, 40 });
	assign(&v, ALL_LIVE, before);
	size_t len = ct_pool_encode(&scratch, buf2);
	is_int(ct_pool_view_parse(buf2, len, &v2), CT_EOK, "sticky: the value parses again");
	assign(&v2, ALL_LIVE, after);
	is_mem(after, sizeof(after), before, sizeof(before), "sticky: a copy of the value picks alike");
}

static void test_failover(void)
{
	static uint8_t buf[CT_POOL_VALUE_MAX];
	const char *names[] = { "east", "west", "south" };
	ct_pool_view_t v;
	ct_rng_t rng;
	ct_rng_seed(&rng, 3);

	make_view(&v, buf, CT_POLICY_FAILOVER, 3, names, (const uint32_t[]){ 1, 100, 100 });
	int other = 0;
	for (int i = 0; i < 1000; i++) {
		other += ct_select_group(&v, ALL_LIVE, ct_rng_next(&rng), clients[i]) != 0;
	}
	is_int(other, 0, "failover 1/100/100: always the first group (not the heaviest)");

	struct {
		uint32_t w[3];
		bool live[3];
		int want;
		const char *what;
	} cases[] = {
		{ { 1, 1, 1 }, { true, true, true }, 0, "all up: first" },
		{ { 0, 1, 1 }, { true, true, true }, 1, "first at weight 0: second" },
		{ { 0, 0, 1 }, { true, true, true }, 2, "first two at weight 0: third" },
		{ { 0, 0, 0 }, { true, true, true }, 0, "all at weight 0: first" },
		{ { 1, 1, 1 }, { false, true, true }, 1, "first dead: second" },
		{ { 1, 1, 1 }, { false, false, true }, 2, "first two dead: third" },
		{ { 0, 0, 0 }, { false, true, true }, 1, "all weight 0, first dead: second" },
		{ { 0, 1, 1 }, { true, false, true }, 2, "first weight 0, second dead: third" },
		{ { 1, 0, 0 }, { false, true, true }, 1, "weighted first dead, rest 0: second" },
		{ { 1, 1, 1 }, { false, false, false }, -1, "none live: -1" },
		{ { 0, 0, 0 }, { false, false, false }, -1, "none live, all 0: -1" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		set_weights(&v, cases[c].w);
		int got = ct_select_group(&v, cases[c].live, ct_rng_next(&rng), ct_rng_next(&rng));
		is_int(got, cases[c].want, "failover %u/%u/%u: %s", cases[c].w[0], cases[c].w[1],
		       cases[c].w[2], cases[c].what);
	}
}

static uint64_t h4(const char *text, unsigned prefix)
{
	uint8_t a[4];
	inet_pton(AF_INET, text, a);
	return ct_select_client_hash(AF_INET, a, prefix);
}

static uint64_t h6(const char *text, unsigned prefix)
{
	uint8_t a[16];
	inet_pton(AF_INET6, text, a);
	return ct_select_client_hash(AF_INET6, a, prefix);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_client_hash(void)
{
	ok(h4("10.1.2.3", 24) == h4("10.1.2.200", 24), "/24: the host byte is masked");
	ok(h4("10.1.2.3", 24) == h4("10.1.2.0", 24), "/24: 10.1.2.3 and 10.1.2.0 alike");
	ok(h4("10.1.2.3", 24) != h4("10.1.3.3", 24), "/24: another /24 differs");
	ok(h4("10.1.0.0", 20) == h4("10.1.15.255", 20), "/20: bits inside a byte are masked");
	ok(h4("10.1.0.0", 20) != h4("10.1.16.0", 20), "/20: the 20th bit counts");
	ok(h4("10.1.2.128", 25) != h4("10.1.2.0", 25), "/25: the 25th bit counts");
	ok(h4("10.1.2.128", 25) == h4("10.1.2.255", 25), "/25: bits past it are masked");
	ok(h4("1.2.3.4", 0) == h4("203.0.113.9", 0), "/0: every address alike");
	ok(h4("10.1.2.3", 32) != h4("10.1.2.4", 32), "/32: every bit counts");
	ok(h4("10.1.2.0", 24) != h4("10.1.2.0", 23), "the prefix length is part of the key");
	ok(h6("2001:db8:1:200::1", 56) == h6("2001:db8:1:2ff:ffff::", 56),
	   "IPv6 /56: bits past 56 are masked");
	ok(h6("2001:db8:1:200::", 56) != h6("2001:db8:1:300::", 56), "IPv6 /56: another /56 differs");
	ok(h6("2001:db8:1::", 48) == h6("2001:db8:1:ff00::", 48), "IPv6 /48: masked");
	ok(h6("2001:db8::1", 128) != h6("2001:db8::2", 128), "IPv6 /128: every bit counts");
	uint8_t v4[4] = { 10, 1, 2, 0 }, v6[16] = { 10, 1, 2, 0 };
	ok(ct_select_client_hash(AF_INET, v4, 24) != ct_select_client_hash(AF_INET6, v6, 24),
	   "the family is part of the key");

	/* ECS carries only ceil(prefix/8) address bytes: nothing past them is read (ASan). */
	uint8_t *three = malloc(3), *none = malloc(1);
	if (three == NULL || none == NULL) {
		diag("out of memory");
		exit(1);
	}
	memcpy(three, (const uint8_t[]){ 10, 1, 2 }, 3);
	ok(ct_select_client_hash(AF_INET, three, 24) == h4("10.1.2.0", 24),
	   "/24 from a 3-byte address: same key as from 4 bytes");
	ok(ct_select_client_hash(AF_INET, none, 0) == h4("192.0.2.1", 0),
	   "/0 reads no address byte");
	free(three);
	free(none);

	/* Distinct subnets give distinct keys. */
	static uint64_t sorted[NCLIENTS];
	memcpy(sorted, clients, sizeof(sorted));
	qsort(sorted, NCLIENTS, sizeof(sorted[0]), cmp_u64);
	int dup = 0;
	for (int i = 1; i < NCLIENTS; i++) {
		dup += sorted[i] == sorted[i - 1];
	}
	is_int(dup, 0, "%d distinct /24s: no two keys alike", NCLIENTS);
}

static void test_rng(void)
{
	ct_rng_t a, b;
	ct_rng_seed(&a, 42);
	ct_rng_seed(&b, 42);
	int same = 0, differ = 0;
	uint64_t prev = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = ct_rng_next(&a);
		same += x == ct_rng_next(&b);
		differ += x != prev;
		prev = x;
	}
	ok(same == 1000 && differ == 1000, "the PRNG is reproducible from its seed and moves on");
}

int main(void)
{
	make_clients();
	test_weighted();
	test_sticky();
	test_failover();
	test_client_hash();
	test_rng();
	done_testing();
	return exit_status();
}
