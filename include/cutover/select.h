/* SPDX-License-Identifier: MIT */
/* Choosing a pool's group for one answer: weighted, sticky (by client subnet) or failover. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/pool.h"

/*
 * The group to answer with, or -1 when no group is live. live[g] says whether group g has a
 * live target. Weights: a group of weight 0 is chosen only when every live group has weight
 * 0, and then all live groups count equally (as Route 53 does).
 *  - weighted: random in proportion to the weights (rnd: a fresh random number);
 *  - sticky: weighted rendezvous hashing of client_hash with each group's name, so a client
 *    keeps its group while weights stand, and raising a group's weight only moves clients
 *    into that group;
 *  - failover: the first live group in order (weight 0 skipped unless all are 0).
 */
int ct_select_group(const ct_pool_view_t *pool, const bool *live, uint64_t rnd,
		    uint64_t client_hash);

/* Stable 64-bit hash of a client subnet: family, prefix length and the masked address. */
uint64_t ct_select_client_hash(int family, const uint8_t *addr, unsigned prefix);

/* A small fast PRNG for weighted picks (per worker; not for secrets). */
typedef struct {
	uint64_t s;
} ct_rng_t;

void ct_rng_seed(ct_rng_t *rng, uint64_t seed);
uint64_t ct_rng_next(ct_rng_t *rng);
