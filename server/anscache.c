/* SPDX-License-Identifier: MIT */
/* The answer cache (anscache.h): set-associative, keyed by folded name, type and room. */
#include "cutover/anscache.h"

#include <string.h>
#include <sys/mman.h>

/* Mapped rather than calloc'd: page-aligned, so each set's tags are one cache line, and zero
 * pages until an entry is written there. */
ct_anscache_t *ct_anscache_new(uint64_t seed, unsigned sets)
{
	size_t head = (sizeof(ct_anscache_t) + 63) / 64 * 64;
	size_t ways = (size_t)sets * CT_ANSCACHE_WAYS;
	size_t size = head + ways * sizeof(uint32_t) + ways * sizeof(ct_anscache_entry_t);
	uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		return NULL;
	}
	ct_anscache_t *c = (ct_anscache_t *)m;
	c->seed = seed | 1;
	c->sets = sets;
	c->tag = (uint32_t *)(m + head);
	c->entry = (ct_anscache_entry_t *)(m + head + ways * sizeof(uint32_t));
	c->size = size;
	return c;
}

void ct_anscache_free(ct_anscache_t *c)
{
	if (c != NULL) {
		munmap(c, c->size);
	}
}

uint32_t ct_anscache_hash(const ct_anscache_t *c, const uint8_t *qname, size_t qname_len,
			  uint16_t qtype)
{
	uint64_t h = c->seed ^ qtype;
	/* bytewise, length octets too: they are never letters (at most 63) */
	for (size_t i = 0; i < qname_len; i++) {
		h = (h ^ ct_dname_fold(qname[i])) * 0x100000001B3ull;
	}
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	/* never 0, the tag of an empty entry; not by setting a bit: the low bits pick the set */
	uint32_t v = (uint32_t)(h >> 32);
	return v != 0 ? v : 1;
}

/* Is the filled entry e (its tag matched) this query's? */
static bool entry_is(const ct_anscache_entry_t *e, const uint8_t *qname, size_t qname_len,
		     uint16_t qtype, size_t room)
{
	return e->qtype == qtype && e->room == room && e->name_len == qname_len &&
	       ct_dname_eq(e->data, qname);
}

const ct_anscache_entry_t *ct_anscache_find(const ct_anscache_t *c, uint32_t hash,
					    const uint8_t *qname, size_t qname_len,
					    uint16_t qtype, size_t room, uint64_t txnid,
					    const ct_pool_plan_t **plan)
{
	size_t base = (size_t)(hash & (c->sets - 1)) * CT_ANSCACHE_WAYS;
	for (size_t i = base; i < base + CT_ANSCACHE_WAYS; i++) {
		const ct_anscache_entry_t *e = &c->entry[i];
		if (c->tag[i] != hash || e->txnid != txnid ||
		    !entry_is(e, qname, qname_len, qtype, room)) {
			continue;
		}
		*plan = NULL;
		if (e->plan >= 0) {
			const ct_anscache_plan_t *p = &c->plans[e->plan];
			if (p->entry != i || p->txnid != txnid) {
				return NULL;
			}
			*plan = &p->plan;
		}
		return e;
	}
	return NULL;
}

void ct_anscache_prefetch_set(const ct_anscache_t *c, uint32_t hash)
{
	__builtin_prefetch(&c->tag[(size_t)(hash & (c->sets - 1)) * CT_ANSCACHE_WAYS]);
}

void ct_anscache_prefetch_entry(const ct_anscache_t *c, uint32_t hash)
{
	size_t base = (size_t)(hash & (c->sets - 1)) * CT_ANSCACHE_WAYS;
	for (size_t i = base; i < base + CT_ANSCACHE_WAYS; i++) {
		if (c->tag[i] == hash) {
			__builtin_prefetch(&c->entry[i]);
			return;
		}
	}
}

/* The way to fill: this query's own entry, else an empty or older one, else the next in turn. */
static size_t victim(ct_anscache_t *c, uint32_t hash, const uint8_t *qname, size_t qname_len,
		     uint16_t qtype, size_t room, uint64_t txnid)
{
	size_t base = (size_t)(hash & (c->sets - 1)) * CT_ANSCACHE_WAYS;
	size_t older = SIZE_MAX;
	for (size_t i = base; i < base + CT_ANSCACHE_WAYS; i++) {
		const ct_anscache_entry_t *e = &c->entry[i];
		if (c->tag[i] == 0) {
			older = older == SIZE_MAX ? i : older;
			continue;
		}
		if (c->tag[i] == hash && entry_is(e, qname, qname_len, qtype, room)) {
			return i;
		}
		if (older == SIZE_MAX && e->txnid < txnid) {
			older = i;
		}
	}
	return older != SIZE_MAX ? older : base + (c->turn++ % CT_ANSCACHE_WAYS);
}

static bool put_plan(ct_anscache_t *c, uint32_t hash, size_t idx, uint64_t txnid,
		     const ct_pool_plan_t *plan)
{
	if (plan->vlen > sizeof(c->plans[0].value) || plan->pklen > sizeof(c->plans[0].pkey)) {
		return false;
	}
	ct_anscache_plan_t *p = &c->plans[hash & (CT_ANSCACHE_PLANS - 1)];
	p->txnid = txnid;
	p->entry = (uint32_t)idx;
	p->plan = *plan;
	memcpy(p->value, plan->value, plan->vlen);
	memcpy(p->pkey, plan->pkey, plan->pklen);
	p->plan.value = p->value;
	p->plan.pkey = p->pkey;
	return true;
}

bool ct_anscache_put(ct_anscache_t *c, uint32_t hash, const uint8_t *qname, size_t qname_len,
		     uint16_t qtype, size_t room, uint64_t txnid, const uint8_t *body,
		     size_t body_len, const uint16_t counts[3], uint8_t rcode, uint8_t flags,
		     const ct_pool_plan_t *plan)
{
	if (txnid == 0 || room > UINT16_MAX || qname_len + body_len > CT_ANSCACHE_DATA) {
		return false;
	}
	size_t idx = victim(c, hash, qname, qname_len, qtype, room, txnid);
	ct_anscache_entry_t *e = &c->entry[idx];
	e->txnid = 0;
	c->tag[idx] = 0;
	if (plan != NULL && !put_plan(c, hash, idx, txnid, plan)) {
		return false;
	}
	e->qtype = qtype;
	e->room = (uint16_t)room;
	e->body_len = (uint16_t)body_len;
	memcpy(e->counts, counts, sizeof(e->counts));
	e->name_len = (uint8_t)qname_len;
	e->rcode = rcode;
	e->flags = flags;
	e->plan = plan != NULL ? (int16_t)(hash & (CT_ANSCACHE_PLANS - 1)) : -1;
	memcpy(e->data, qname, qname_len);
	ct_dname_tolower(e->data);
	memcpy(e->data + qname_len, body, body_len);
	e->txnid = txnid;
	c->tag[idx] = hash;
	return true;
}
