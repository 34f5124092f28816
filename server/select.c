/* SPDX-License-Identifier: MIT */
/* Group selection for pool answers, and the hashing and PRNG it uses. */
#include "cutover/select.h"

#include <math.h>
#include <string.h>

/* splitmix64's finaliser: a good 64-bit mix (Steele, Lea, Flood 2014). */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0x100000001b3ULL; /* FNV-1a step, mixed at the end */
	}
	return mix64(h);
}

void ct_rng_seed(ct_rng_t *rng, uint64_t seed)
{
	rng->s = seed;
}

uint64_t ct_rng_next(ct_rng_t *rng)
{
	rng->s += 0x9e3779b97f4a7c15ULL;
	return mix64(rng->s);
}

uint64_t ct_select_client_hash(int family, const uint8_t *addr, unsigned prefix)
{
	uint8_t buf[18] = { (uint8_t)family, (uint8_t)prefix };
	unsigned bytes = (prefix + 7) / 8;
	if (bytes > 16) {
		bytes = 16;
	}
	memcpy(buf + 2, addr, bytes);
	if (prefix % 8 != 0 && bytes > 0) {
		buf[1 + bytes] &= (uint8_t)(0xFF << (8 - prefix % 8));
	}
	return hash_bytes(0xcbf29ce484222325ULL, buf, 2 + bytes);
}

/* Weights that count: the group's own, or 1 for every live group when all live are 0. */
static bool all_zero(const ct_pool_view_t *p, const bool *live)
{
	for (int g = 0; g < p->ngroups; g++) {
		if (live[g] && p->groups[g].weight > 0) {
			return false;
		}
	}
	return true;
}

int ct_select_group(const ct_pool_view_t *p, const bool *live, uint64_t rnd, uint64_t client_hash)
{
	bool equal = all_zero(p, live);
	int best = -1;

	switch (p->policy) {
	case CT_POLICY_FAILOVER:
		for (int g = 0; g < p->ngroups; g++) {
			if (live[g] && (equal || p->groups[g].weight > 0)) {
				return g;
			}
		}
		return -1;
	case CT_POLICY_STICKY: {
		/* weighted rendezvous: score = -ln(u) / w, lowest wins (Schindelhauer et al.) */
		double best_score = INFINITY;
		for (int g = 0; g < p->ngroups; g++) {
			uint32_t w = equal ? 1 : p->groups[g].weight;
			if (!live[g] || w == 0) {
				continue;
			}
			uint64_t h = hash_bytes(client_hash, p->groups[g].name, p->groups[g].name_len);
			double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
			double score = -log(u) / (double)w;
			if (score < best_score) {
				best_score = score;
				best = g;
			}
		}
		return best;
	}
	default: {
		uint64_t total = 0;
		for (int g = 0; g < p->ngroups; g++) {
			if (live[g]) {
				total += equal ? 1 : p->groups[g].weight;
			}
		}
		if (total == 0) {
			return -1;
		}
		uint64_t r = rnd % total;
		for (int g = 0; g < p->ngroups; g++) {
			if (!live[g]) {
				continue;
			}
			uint64_t w = equal ? 1 : p->groups[g].weight;
			if (r < w) {
				return g;
			}
			r -= w;
		}
		return -1;
	}
	}
}
