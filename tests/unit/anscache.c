/* SPDX-License-Identifier: MIT */
/* Unit tests: the answer cache's keys, validity by snapshot, and how it spreads names. */
#include "cutover/anscache.h"
#include "tap.h"

/* x<n>.bench.test. in wire form, as the bench's static names: they differ only in digits */
static size_t bench_name(unsigned n, uint8_t *out)
{
	char label[16];
	int len = snprintf(label, sizeof(label), "x%06u", n);
	size_t o = 0;
	out[o++] = (uint8_t)len;
	memcpy(out + o, label, (size_t)len);
	o += (size_t)len;
	memcpy(out + o, "\5bench\4test\0", 12);
	return o + 12;
}

static const ct_anscache_entry_t *find(const ct_anscache_t *c, const uint8_t *name, size_t len,
				       uint16_t qtype, size_t room, uint64_t txnid)
{
	const ct_pool_plan_t *plan;
	uint32_t h = ct_anscache_hash(c, name, len, qtype);
	return ct_anscache_find(c, h, name, len, qtype, room, txnid, &plan);
}

static bool put(ct_anscache_t *c, const uint8_t *name, size_t len, uint16_t qtype, size_t room,
		uint64_t txnid, const uint8_t *body, size_t body_len)
{
	static const uint16_t counts[3] = { 1, 0, 0 };
	uint32_t h = ct_anscache_hash(c, name, len, qtype);
	return ct_anscache_put(c, h, name, len, qtype, room, txnid, body, body_len, counts, 0,
			       CT_ANSCACHE_AA, NULL);
}

/* Keep an answer for each of n names, then count how many are found again. */
static size_t fill_and_find(ct_anscache_t *c, size_t n, const uint8_t *body, size_t body_len)
{
	uint8_t name[64];
	for (unsigned i = 0; i < n; i++) {
		put(c, name, bench_name(i, name), 1, 512, 3, body, body_len);
	}
	size_t found = 0;
	for (unsigned i = 0; i < n; i++) {
		found += find(c, name, bench_name(i, name), 1, 512, 3) != NULL;
	}
	return found;
}

int main(void)
{
	ct_anscache_t *c = ct_anscache_new(0x5eed, CT_ANSCACHE_SETS);
	if (!ok(c != NULL, "a cache")) {
		return 1;
	}
	uint8_t name[64], upper[64];
	size_t len = bench_name(42, name);
	static const uint8_t body[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1 };

	ok(find(c, name, len, 1, 512, 7) == NULL, "an empty cache has nothing");
	ok(put(c, name, len, 1, 512, 7, body, sizeof(body)), "an answer is kept");
	const ct_anscache_entry_t *e = find(c, name, len, 1, 512, 7);
	ok(e != NULL && e->body_len == sizeof(body) &&
	   memcmp(e->data + e->name_len, body, sizeof(body)) == 0 && e->counts[0] == 1,
	   "and found again, body and counts as kept");
	memcpy(upper, name, len);
	upper[1] = 'X';
	upper[9] = 'B';
	ok(find(c, upper, len, 1, 512, 7) == e, "the name matches in any letter case");
	ok(find(c, name, len, 28, 512, 7) == NULL, "another type is another answer");
	ok(find(c, name, len, 1, 1232, 7) == NULL, "another room is another answer (TC differs)");
	ok(find(c, name, len, 1, 512, 8) == NULL, "a newer snapshot never sees an older answer");
	ok(put(c, name, len, 1, 512, 8, body, sizeof(body) - 4) &&
	   find(c, name, len, 1, 512, 7) == NULL && find(c, name, len, 1, 512, 8) != NULL,
	   "an answer rebuilt in a newer snapshot replaces the older one");
	uint8_t big[CT_ANSCACHE_DATA];
	memset(big, 0, sizeof(big));
	ok(!put(c, name, len, 16, 4096, 8, big, sizeof(big) - len + 1) &&
	   find(c, name, len, 16, 4096, 8) == NULL, "an answer larger than an entry is not kept");
	ok(put(c, name, len, 16, 4096, 8, big, sizeof(big) - len), "one that just fits is");

	/* Every set is used. (The hash once had its low bit forced on to never be 0, and the low
	 * bits pick the set: half the sets stayed empty and the bench's 6,015 names missed 14 %.) */
	static bool used[CT_ANSCACHE_SETS];
	size_t nused = 0;
	bool zero = false;
	for (unsigned n = 0; n < 8 * CT_ANSCACHE_SETS; n++) {
		size_t l = bench_name(n, name);
		uint32_t h = ct_anscache_hash(c, name, l, 1);
		zero |= h == 0;
		size_t set = h & (CT_ANSCACHE_SETS - 1);
		nused += !used[set];
		used[set] = true;
	}
	ok(!zero, "no hash is 0 (the tag of an empty entry)");
	ok(nused >= CT_ANSCACHE_SETS * 99 / 100, "names spread over every set: %zu of %d used",
	   nused, CT_ANSCACHE_SETS);

	/* Half as many names as entries: a set is 16 ways, so hardly one is crowded out. */
	ct_anscache_t *d = ct_anscache_new(0xfeed, CT_ANSCACHE_SETS);
	size_t want = CT_ANSCACHE_SETS * CT_ANSCACHE_WAYS / 2;
	size_t found = fill_and_find(d, want, body, sizeof(body));
	ok(found >= want * 99 / 100, "%zu names filling half the cache: %zu still found", want,
	   found);
	ct_anscache_free(d);

	/* a smaller cache (TCP workers': an eighth) holds what fits in it the same way */
	ct_anscache_t *small = ct_anscache_new(0xbeef, CT_ANSCACHE_SETS / 8);
	ok(small != NULL && small->sets == CT_ANSCACHE_SETS / 8, "a cache of an eighth the sets");
	want = CT_ANSCACHE_SETS / 8 * CT_ANSCACHE_WAYS / 2;
	found = fill_and_find(small, want, body, sizeof(body));
	ok(found >= want * 99 / 100, "%zu names filling half of it: %zu found", want, found);
	ok(small->size < c->size / 4 && (uint8_t *)(small->entry + small->sets * CT_ANSCACHE_WAYS) <=
	   (uint8_t *)small + small->size, "its mapping is far smaller, its entries inside it");
	ct_anscache_free(small);
	ct_anscache_free(c);
	done_testing();
	return tap_failed != 0;
}
