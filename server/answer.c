/* SPDX-License-Identifier: MIT */
/* The authoritative lookup (RFC 1034 4.3.2): zone, delegations, exact match, CNAME chains,
 * wildcards (RFC 4592), negative answers (RFC 2308), written straight into the response. */
#include "cutover/answer.h"
#include "cutover/anscache.h"
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/log.h"
#include "cutover/pool.h"
#include "cutover/query.h"
#include "cutover/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define OPT_RR_LEN 11 /* root owner, type, class, ttl, rdlength: an OPT with no options */

typedef struct {
	ct_answer_ctx_t *ctx;
	ct_txn_t *txn;
	ct_wire_t *w;
	const ct_query_t *q;
	uint8_t apex_key[CT_KEY_MAXLEN];
	size_t apex_len;
	ct_zone_t zone;
	const struct sockaddr *src;
	uint8_t rcode;
	uint8_t ecs_scope; /* RFC 7871 7.2.1: how much of the client subnet the answer used */
	bool aa;
	bool tc;
	bool nocache;              /* the answer must not be cached */
	bool has_plan;             /* a pool answer ends the response, from plan */
	ct_wire_mark_t pool_at;    /* where the pool's records start */
	ct_pool_plan_t *plan;      /* scratch, outside so lookup_t stays small to clear */
	uint32_t token;            /* the caller's cache hash of the question, or 0 */
} lookup_t;

/* What a node (owner name) holds, from one cursor walk over its records. */
typedef enum { NODE_NONE, NODE_EMPTY, NODE_DATA } node_kind_t;

typedef struct {
	node_kind_t kind;
	MDB_val want;   /* the rrset of the wanted type (mv_data NULL if absent) */
	MDB_val cname;
	MDB_val ns;
	uint16_t want_type;
} node_t;

/* ------------------------------------------------------------------------------------------
 * Counters (see answer.h): plain per-worker increments, read by the HTTP endpoint. */

/* The query types counted by name, by bucket; CT_STAT_QTYPES - 1 is "other". */
static const char *const stat_qtype_names[CT_STAT_QTYPES] = {
	"A",  "AAAA",   "CNAME", "NS",    "SOA", "MX",  "TXT",  "PTR",  "SRV",  "NAPTR",
	"DS", "DNSKEY", "SVCB",  "HTTPS", "CAA", "ANY", "AXFR", "IXFR", "none", "other",
};

const char *ct_answer_stat_qtype_name(int bucket)
{
	return bucket >= 0 && bucket < CT_STAT_QTYPES ? stat_qtype_names[bucket] : "other";
}

int ct_answer_stat_qtype(uint16_t qtype)
{
	switch (qtype) { /* a jump table: the query path pays a few instructions */
	case CT_TYPE_A:
		return 0;
	case CT_TYPE_AAAA:
		return 1;
	case CT_TYPE_CNAME:
		return 2;
	case CT_TYPE_NS:
		return 3;
	case CT_TYPE_SOA:
		return 4;
	case CT_TYPE_MX:
		return 5;
	case CT_TYPE_TXT:
		return 6;
	case CT_TYPE_PTR:
		return 7;
	case CT_TYPE_SRV:
		return 8;
	case 35: /* NAPTR */
		return 9;
	case CT_TYPE_DS:
		return 10;
	case 48: /* DNSKEY */
		return 11;
	case 64: /* SVCB */
		return 12;
	case 65: /* HTTPS */
		return 13;
	case 257: /* CAA */
		return 14;
	case CT_TYPE_ANY:
		return 15;
	case CT_TYPE_AXFR:
		return 16;
	case CT_TYPE_IXFR:
		return 17;
	case 0: /* no question could be read */
		return 18;
	default:
		return CT_STAT_QTYPES - 1;
	}
}

const char *ct_answer_stat_rcode_name(int bucket)
{
	static const char *const names[CT_STAT_RCODES] = { "NOERROR",  "FORMERR", "SERVFAIL",
		                                           "NXDOMAIN", "NOTIMP",  "REFUSED",
		                                           "BADVERS",  "other" };
	return bucket >= 0 && bucket < CT_STAT_RCODES ? names[bucket] : "other";
}

int ct_answer_stat_rcode(int rcode)
{
	return rcode >= 0 && rcode <= CT_RCODE_REFUSED ? rcode : rcode == CT_RCODE_BADVERS ? 6 : 7;
}

static void count_response(ct_answer_ctx_t *ctx, const ct_query_t *q, bool tcp, int rcode)
{
	int t = ct_answer_stat_qtype(q->has_question ? q->qtype : 0);
	ct_counter_inc(
	    &ctx->responses[tcp ? CT_STAT_TCP : CT_STAT_UDP][t][ct_answer_stat_rcode(rcode)]);
}

/*
 * Where a (pool, group) starts its probe: from the key's length, its first and last eight bytes
 * (the zone and the owner's first label, and the type) and the group's index, a handful of
 * instructions. Slots are matched on the whole key and the group's name; a group that moves
 * to another index gets a second slot, which the metrics add up.
 */
static uint32_t poolstat_hash(const uint8_t *key, size_t klen, int group)
{
	uint64_t head = 0, tail = 0;
	if (klen >= 8) {
		memcpy(&head, key, 8);
		memcpy(&tail, key + klen - 8, 8);
	} else {
		for (size_t i = 0; i < klen; i++) {
			head = head << 8 | key[i];
		}
	}
	uint64_t h = (head ^ (uint64_t)klen << 56) * 0x9E3779B97F4A7C15ull;
	h = (h ^ tail ^ (uint64_t)group) * 0xC2B2AE3D27D4EB4Full;
	return (uint32_t)(h >> 32);
}

/* The slot of (pool, group), added on first use; NULL when the table or its arena is full. */
static ct_poolstat_t *poolstat_get(ct_poolstats_t *ps, const uint8_t *key, size_t klen, int g,
                                   const uint8_t *group, size_t glen)
{
	uint32_t h = poolstat_hash(key, klen, g);
	for (uint32_t i = 0; i < CT_POOLSTAT_SLOTS; i++) {
		ct_poolstat_t *s = &ps->slot[(h + i) & (CT_POOLSTAT_SLOTS - 1)];
		if (atomic_load_explicit(&s->used, memory_order_relaxed) == 0) {
			if (ps->nslots >= CT_POOLSTAT_SLOTS / 4 * 3 ||
			    ps->arena_used + klen + glen > CT_POOLSTAT_ARENA) {
				return NULL;
			}
			s->hash = h;
			s->off = ps->arena_used;
			s->klen = (uint16_t)klen;
			s->glen = (uint8_t)glen;
			memcpy(ps->arena + s->off, key, klen);
			memcpy(ps->arena + s->off + klen, group, glen);
			ps->arena_used += (uint32_t)(klen + glen);
			ps->nslots++;
			atomic_store_explicit(&s->used, 1, memory_order_release);
			return s;
		}
		if (s->hash == h && s->klen == klen && s->glen == glen &&
		    memcmp(ps->arena + s->off, key, klen) == 0 &&
		    memcmp(ps->arena + s->off + klen, group, glen) == 0) {
			return s;
		}
	}
	return NULL;
}

static void count_pool_answer(ct_answer_ctx_t *ctx, const uint8_t *key, size_t klen, int g,
                              const ct_pool_group_view_t *gr, bool preview, bool fail_open)
{
	ct_poolstat_t *s = poolstat_get(ctx->pools, key, klen, g, gr->name, gr->name_len);
	if (s == NULL) {
		ct_counter_inc(&ctx->pools->uncounted);
		return;
	}
	ct_counter_inc(preview ? &s->previews : &s->answers);
	if (fail_open) {
		ct_counter_inc(&s->fail_open);
	}
}

int ct_answer_init(ct_answer_ctx_t *ctx, ct_store_t *store)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->store = store;
	ctx->pools = calloc(1, sizeof(*ctx->pools));
	if (ctx->pools == NULL) {
		return CT_ENOMEM;
	}
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		seed = (uint64_t)(uintptr_t)ctx ^ (uint64_t)time(NULL);
	}
	ct_rng_seed(&ctx->rng, seed);
	if ((ctx->cache = ct_anscache_new(ct_rng_next(&ctx->rng), CT_ANSCACHE_SETS)) == NULL) {
		return CT_ENOMEM;
	}
	return ct_reader_init(store, &ctx->txn);
}

int ct_answer_cache_sets(ct_answer_ctx_t *ctx, unsigned sets)
{
	ct_anscache_t *c = ct_anscache_new(ct_rng_next(&ctx->rng), sets);
	if (c == NULL) {
		return CT_ENOMEM;
	}
	ct_anscache_free(ctx->cache);
	ctx->cache = c;
	return CT_EOK;
}

void ct_answer_cache_off(ct_answer_ctx_t *ctx)
{
	ct_anscache_free(ctx->cache);
	ctx->cache = NULL;
}

void ct_answer_deinit(ct_answer_ctx_t *ctx)
{
	ct_reader_deinit(&ctx->txn);
	free(ctx->pools);
	ctx->pools = NULL;
	ct_anscache_free(ctx->cache);
	ctx->cache = NULL;
}

/*
 * Walk the records of the node with this owner key. want CT_TYPE_ANY means the first type
 * found (RFC 8482). Sets kind NODE_DATA if the owner has records, NODE_EMPTY if only names below it
 * exist (an empty non-terminal), NODE_NONE otherwise.
 */
static void find_node(lookup_t *lk, const uint8_t *owner_key, size_t owner_len, uint16_t want,
		      node_t *node)
{
	uint8_t prefix[CT_RR_KEY_MAXLEN];
	size_t plen = ct_rr_key_node(prefix, owner_key, owner_len, lk->apex_len);
	memset(node, 0, sizeof(*node));
	MDB_val k, v;
	if (!ct_txn_seek(lk->txn, lk->txn->store->rrsets, prefix, plen, &k, &v) ||
	    !ct_key_has_prefix(&k, prefix, plen)) {
		node->kind = NODE_NONE;
		return;
	}
	prefix[plen++] = 0x00;
	if (!ct_key_has_prefix(&k, prefix, plen) || k.mv_size != plen + 2) {
		node->kind = NODE_EMPTY;
		return;
	}
	node->kind = NODE_DATA;
	do {
		uint16_t type = ct_get16((uint8_t *)k.mv_data + plen);
		if (type == CT_TYPE_CNAME) {
			node->cname = v;
		} else if (type == CT_TYPE_NS) {
			node->ns = v;
		}
		if ((want == CT_TYPE_ANY && node->want.mv_data == NULL) || type == want) {
			node->want = v;
			node->want_type = type;
		}
	} while (ct_txn_next(lk->txn, lk->txn->store->rrsets, &k, &v) &&
		 ct_key_has_prefix(&k, prefix, plen) && k.mv_size == plen + 2);
}

static bool get_rrset(lookup_t *lk, const uint8_t *owner_key, size_t owner_len, uint16_t type,
		      MDB_val *v)
{
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen = ct_rr_key(key, owner_key, owner_len, lk->apex_len, type);
	return ct_txn_get(lk->txn, lk->txn->store->rrsets, key, klen, v);
}

/*
 * Write an rrset; on overflow roll it back whole (RFC 2181 9). Returns false when it did not
 * fit; sets TC when truncation hides required data: the answer and authority sections, and
 * glue that is not optional (required).
 */
static bool put_rrset_req(lookup_t *lk, int sec, const uint8_t *owner, uint16_t type,
			  const MDB_val *val, uint32_t ttl_cap, bool required)
{
	ct_rrset_t rrset;
	if (ct_rrset_parse(val, &rrset) != CT_EOK) {
		lk->txn->ret = CT_EDBCORRUPT;
		return false;
	}
	uint32_t ttl = rrset.ttl < ttl_cap ? rrset.ttl : ttl_cap;
	ct_wire_mark_t mark;
	ct_wire_mark(lk->w, &mark);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	while (ct_rrset_next(&rrset, &pos, &rd, &rdlen)) {
		int ret = ct_wire_put_rr(lk->w, sec, owner, type, ttl, rd, rdlen);
		if (ret != CT_EOK) {
			ct_wire_rollback(lk->w, &mark);
			if (ret == CT_ESPACE) {
				if (sec != CT_SEC_ADDITIONAL || required) {
					lk->tc = true;
				}
			} else {
				lk->txn->ret = CT_EDBCORRUPT;
			}
			return false;
		}
	}
	return true;
}

static bool put_rrset(lookup_t *lk, int sec, const uint8_t *owner, uint16_t type,
		      const MDB_val *val, uint32_t ttl_cap)
{
	return put_rrset_req(lk, sec, owner, type, val, ttl_cap, false);
}

/* RFC 2308 3: the SOA in authority, its TTL the lesser of its own TTL and MINIMUM. */
static void put_negative_soa(lookup_t *lk)
{
	MDB_val v;
	if (!get_rrset(lk, lk->apex_key, lk->apex_len, CT_TYPE_SOA, &v)) {
		if (lk->txn->ret == CT_EOK) {
			lk->txn->ret = CT_EDBCORRUPT; /* a zone without SOA */
		}
		return;
	}
	ct_rrset_t rrset;
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	if (ct_rrset_parse(&v, &rrset) != CT_EOK || !ct_rrset_next(&rrset, &pos, &rd, &rdlen) ||
	    rdlen < 22) {
		lk->txn->ret = CT_EDBCORRUPT;
		return;
	}
	uint32_t minimum = ct_get32(rd + rdlen - 4);
	put_rrset(lk, CT_SEC_AUTHORITY, lk->zone.apex, CT_TYPE_SOA, &v, minimum);
}

/*
 * Glue: A and AAAA of the NS targets that lie inside this zone. Glue of name servers below
 * the cut is required: if it does not fit, TC is set (RFC 9471 3.1); other glue is optional.
 */
static void put_glue(lookup_t *lk, const MDB_val *ns, const uint8_t *cut_name)
{
	ct_rrset_t rrset;
	if (ct_rrset_parse(ns, &rrset) != CT_EOK) {
		lk->txn->ret = CT_EDBCORRUPT;
		return;
	}
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	while (ct_rrset_next(&rrset, &pos, &rd, &rdlen)) {
		if (ct_dname_check(rd, rdlen) < 0 || !ct_dname_in(rd, lk->zone.apex)) {
			continue;
		}
		uint8_t key[CT_KEY_MAXLEN];
		size_t klen = ct_dname_key(rd, key);
		bool required = ct_dname_in(rd, cut_name);
		static const uint16_t types[] = { CT_TYPE_A, CT_TYPE_AAAA };
		for (size_t i = 0; i < 2; i++) {
			MDB_val v;
			if (get_rrset(lk, key, klen, types[i], &v) &&
			    !put_rrset_req(lk, CT_SEC_ADDITIONAL, rd, types[i], &v, UINT32_MAX,
					   required) &&
			    lk->tc) {
				return;
			}
		}
	}
}

/*
 * The topmost zone cut between the apex (exclusive) and the name (inclusive): the key length
 * of the delegation point, or 0 when there is none. A DS query at the cut itself belongs to
 * the parent (RFC 4035 3.1.4.1), so the cut at the name does not count for DS.
 */
static size_t find_cut(lookup_t *lk, const uint8_t *key, size_t klen, uint16_t qtype,
		       MDB_val *ns)
{
	int labels = ct_key_labels(key, klen);
	int apex_labels = ct_key_labels(lk->apex_key, lk->apex_len);
	for (int l = apex_labels + 1; l <= labels; l++) {
		size_t plen = ct_key_prefix_len(key, klen, l);
		if (l == labels && qtype == CT_TYPE_DS) {
			break;
		}
		if (get_rrset(lk, key, plen, CT_TYPE_NS, ns)) {
			return plen;
		}
	}
	return 0;
}

/* The closest encloser's key length: the longest existing ancestor (RFC 4592 3.3.1). */
static size_t closest_encloser(lookup_t *lk, const uint8_t *key, size_t klen)
{
	int labels = ct_key_labels(key, klen);
	int apex_labels = ct_key_labels(lk->apex_key, lk->apex_len);
	for (int l = labels - 1; l > apex_labels; l--) {
		size_t plen = ct_key_prefix_len(key, klen, l);
		node_t node;
		find_node(lk, key, plen, CT_TYPE_SOA /* unused */, &node);
		if (node.kind != NODE_NONE) {
			return plen;
		}
	}
	return lk->apex_len;
}

/* A referral (RFC 1034 4.3.2 step 3b): NS of the cut in authority, glue in additional. */
static void put_referral(lookup_t *lk, const uint8_t *name, const uint8_t *key, size_t cut_len,
			 const MDB_val *ns)
{
	int cut_labels = ct_key_labels(key, cut_len);
	const uint8_t *cut_name = ct_dname_skip(name, ct_dname_labels(name) - cut_labels);
	if (put_rrset(lk, CT_SEC_AUTHORITY, cut_name, CT_TYPE_NS, ns, UINT32_MAX)) {
		put_glue(lk, ns, cut_name);
	}
}

/*
 * The subnet a sticky pool keys on (RFC 7871 when the query has ECS, else the source address),
 * at most /24 (IPv4) or /56 (IPv6): a client and its neighbours share a group. Sets the ECS
 * scope to the prefix used.
 */
static uint64_t client_hash(lookup_t *lk)
{
	const ct_query_t *q = lk->q;
	if (q->has_ecs) {
		unsigned max = q->ecs_family == 1 ? 24 : 56;
		unsigned prefix = q->ecs_source_prefix < max ? q->ecs_source_prefix : max;
		lk->ecs_scope = (uint8_t)prefix;
		return ct_select_client_hash(q->ecs_family == 1 ? AF_INET : AF_INET6, q->ecs_addr,
					     prefix);
	}
	if (lk->src == NULL) {
		return 0;
	}
	if (lk->src->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)lk->src;
		return ct_select_client_hash(AF_INET, (const uint8_t *)&in->sin_addr, 24);
	}
	if (lk->src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)lk->src;
		const uint8_t *a = in6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			return ct_select_client_hash(AF_INET, a + 12, 24);
		}
		return ct_select_client_hash(AF_INET6, a, 56);
	}
	return 0;
}

/*
 * A pool's answer (DESIGN "Answering"), in two steps so the answer cache can keep the first:
 * pool_plan reads the pool that marker (the rrsets value at the name) points at and the state
 * of each of its targets; put_pool_plan then drops targets that are down or drained, chooses
 * one group by policy among those with a live target (or the group of a preview name) and
 * writes that group's live targets, rotated and capped, with the pool's TTL. When every
 * target is down the pool fails open (all count as up) unless it asks for NODATA.
 */
static bool pool_plan(lookup_t *lk, const uint8_t *owner, const MDB_val *marker,
		      ct_pool_plan_t *plan)
{
	const uint8_t *m = marker->mv_data;
	MDB_val v;
	ct_pool_view_t pool;
	if (marker->mv_size < 3 ||
	    !ct_txn_get(lk->txn, lk->txn->store->pools, m + 2, marker->mv_size - 2, &v) ||
	    ct_pool_view_parse(v.mv_data, v.mv_size, &pool) != CT_EOK) {
		if (lk->txn->ret == CT_EOK) {
			lk->txn->ret = CT_EDBCORRUPT; /* a marker without its pool */
		}
		return false;
	}
	plan->value = v.mv_data;
	plan->vlen = v.mv_size;
	plan->pkey = m + 2;
	plan->pklen = marker->mv_size - 2;
	memcpy(plan->owner, owner, ct_dname_len(owner)); /* owner dies with lookup()'s frame */
	plan->ref = m[1];
	plan->out = ct_health_pool_mask(lk->txn, plan->pkey, plan->pklen, &pool, plan->state);
	return true;
}

/* Writes the answer of a plan; false when nothing is servable (NODATA). */
static bool put_pool_plan(lookup_t *lk, const ct_pool_plan_t *plan)
{
	ct_pool_view_t pool;
	if (ct_pool_view_parse(plan->value, plan->vlen, &pool) != CT_EOK) {
		lk->txn->ret = CT_EDBCORRUPT;
		return false;
	}
	uint8_t state[CT_POOL_MAX_GROUPS][CT_POOL_MAX_TARGETS];
	bool live[CT_POOL_MAX_GROUPS];
	bool any = false;
	for (int g = 0; g < pool.ngroups; g++) {
		live[g] = false;
		for (int t = 0; t < pool.groups[g].ntargets; t++) {
			state[g][t] = plan->state[g][t];
			live[g] |= state[g][t] == CT_TARGET_SERVE;
		}
		any |= live[g];
	}
	/* Every target down: fail open, i.e. treat down ones as up; drained stay out. */
	bool fail_open = !any && plan->out > 0 && !(pool.flags & CT_POOL_ALLDOWN_NODATA);
	if (!any && plan->out > 0) {
		if (!fail_open) {
			return false;
		}
		ct_counter_inc(&lk->ctx->fail_open);
		for (int g = 0; g < pool.ngroups; g++) {
			for (int t = 0; t < pool.groups[g].ntargets; t++) {
				if (state[g][t] == CT_TARGET_DOWN) {
					state[g][t] = CT_TARGET_SERVE;
					live[g] = true;
				}
			}
		}
	}
	int g;
	if (plan->ref != CT_POOLREF_ALL) {
		g = plan->ref < pool.ngroups ? plan->ref : -1;
	} else {
		uint64_t hash = pool.policy == CT_POLICY_STICKY ? client_hash(lk) : 0;
		g = ct_select_group(&pool, live, ct_rng_next(&lk->ctx->rng), hash);
	}
	if (g < 0 || !live[g]) {
		return false; /* nothing servable (a preview of a group all down or drained) */
	}
	const ct_pool_group_view_t *gr = &pool.groups[g];
	const uint8_t *addrs[CT_POOL_MAX_TARGETS];
	unsigned nlive = 0;
	for (int t = 0; t < gr->ntargets; t++) {
		if (state[g][t] == CT_TARGET_SERVE) {
			addrs[nlive++] = gr->addrs + (size_t)t * pool.addr_len;
		}
	}
	unsigned n = nlive;
	if (pool.answers > 0 && pool.answers < n) {
		n = pool.answers;
	}
	count_pool_answer(lk->ctx, plan->pkey, plan->pklen, g, gr, plan->ref != CT_POOLREF_ALL,
			  fail_open);
	unsigned start = lk->ctx->rotate++ % nlive;
	ct_wire_mark_t mark;
	ct_wire_mark(lk->w, &mark);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *addr = addrs[(start + i) % nlive];
		int ret = i == 0 ? ct_wire_put_rr(lk->w, CT_SEC_ANSWER, plan->owner, pool.type,
						  pool.ttl, addr, pool.addr_len)
				 : ct_wire_repeat_rr(lk->w, CT_SEC_ANSWER, mark.len, addr,
						     pool.addr_len);
		if (ret != CT_EOK) {
			ct_wire_rollback(lk->w, &mark);
			lk->tc = true;
			return true;
		}
	}
	return true;
}

/* A pool's answer at owner; the plan and where it starts are kept for the answer cache. */
static bool put_pool(lookup_t *lk, const uint8_t *owner, const MDB_val *marker)
{
	ct_pool_plan_t *plan = lk->plan;
	if (!pool_plan(lk, owner, marker, plan)) {
		return false;
	}
	ct_wire_mark(lk->w, &lk->pool_at);
	plan->ncomp = lk->w->ncomp;
	memcpy(plan->comp, lk->w->comp, sizeof(plan->comp[0]) * lk->w->ncomp);
	lk->has_plan = true;
	if (!put_pool_plan(lk, plan)) {
		lk->nocache = true; /* NODATA from a pool: rare, and not worth a second kind of entry */
		return false;
	}
	return true;
}

/* Answer for name (the qname or a CNAME target inside the zone); returns the next name of a
 * CNAME chain in next (and true), or false when the answer is complete. */
static bool answer_name(lookup_t *lk, const uint8_t *name, const uint8_t *key, size_t klen,
			uint16_t qtype, bool first, uint8_t *next, uint8_t *next_key,
			size_t *next_klen)
{
	MDB_val ns;
	size_t cut = find_cut(lk, key, klen, qtype, &ns);
	if (cut > 0) {
		if (first) {
			lk->aa = false;
		}
		put_referral(lk, name, key, cut, &ns);
		return false;
	}

	uint16_t want = qtype;
	node_t node;
	find_node(lk, key, klen, want, &node);
	const uint8_t *owner = name;
	if (node.kind == NODE_NONE) {
		size_t ce = closest_encloser(lk, key, klen);
		uint8_t wkey[CT_KEY_MAXLEN];
		memcpy(wkey, key, ce);
		wkey[ce] = '*';
		wkey[ce + 1] = 0x00;
		find_node(lk, wkey, ce + 2, want, &node);
		if (node.kind == NODE_NONE) {
			lk->rcode = CT_RCODE_NXDOMAIN;
			put_negative_soa(lk);
			return false;
		}
		/* synthesised from the wildcard: the owner is the query name (RFC 4592 3.3.2);
		 * a wildcard that is an empty non-terminal gives NODATA below */
	}
	if (node.kind == NODE_EMPTY) {
		put_negative_soa(lk); /* an empty non-terminal exists: NODATA (RFC 8020) */
		return false;
	}
	if (node.cname.mv_data != NULL && qtype != CT_TYPE_CNAME && qtype != CT_TYPE_ANY) {
		if (!put_rrset(lk, CT_SEC_ANSWER, owner, CT_TYPE_CNAME, &node.cname, UINT32_MAX)) {
			return false;
		}
		ct_rrset_t rrset;
		size_t pos = 0;
		const uint8_t *rd;
		uint16_t rdlen;
		if (ct_rrset_parse(&node.cname, &rrset) != CT_EOK ||
		    !ct_rrset_next(&rrset, &pos, &rd, &rdlen) || ct_dname_check(rd, rdlen) < 0) {
			lk->txn->ret = CT_EDBCORRUPT;
			return false;
		}
		/* follow the chain only inside this zone (and not into a child zone of ours) */
		if (!ct_dname_in(rd, lk->zone.apex)) {
			return false;
		}
		size_t apex_len;
		*next_klen = ct_dname_key(rd, next_key);
		if (!ct_zone_find(lk->txn, next_key, *next_klen, &apex_len, NULL) ||
		    apex_len != lk->apex_len) {
			return false;
		}
		memcpy(next, rd, rdlen);
		return true;
	}
	bool is_pool = node.want.mv_data != NULL && node.want.mv_size > 0 &&
		       ((uint8_t *)node.want.mv_data)[0] == CT_VALUE_POOLREF;
	if (node.want.mv_data == NULL || (is_pool && !put_pool(lk, owner, &node.want))) {
		put_negative_soa(lk); /* NODATA */
		return false;
	}
	if (is_pool) {
		return false;
	}
	/* RFC 8482 4.2: ANY gets one RRset of the node, not all of them */
	put_rrset(lk, CT_SEC_ANSWER, owner, node.want_type, &node.want, UINT32_MAX);
	return false;
}

static void lookup(lookup_t *lk)
{
	const ct_query_t *q = lk->q;
	uint8_t keys[2][CT_KEY_MAXLEN]; /* the current name's key and the next one's */
	size_t klen = ct_dname_key(q->qname, keys[0]);
	const uint8_t *key = keys[0];
	if (!ct_zone_find(lk->txn, key, klen, &lk->apex_len, &lk->zone)) {
		lk->rcode = CT_RCODE_REFUSED; /* not ours (RFC 1034 4.3.2 step 2 for an auth-only server) */
		return;
	}
	memcpy(lk->apex_key, key, lk->apex_len);
	lk->aa = true;

	/* names[0] is the query name, names[i] the target of the i-th CNAME */
	uint8_t names[CT_MAX_CNAME_HOPS + 1][CT_DNAME_MAXLEN];
	memcpy(names[0], q->qname, q->qname_len);
	for (int hop = 0; hop < CT_MAX_CNAME_HOPS; hop++) {
		uint8_t *next = names[hop + 1];
		uint8_t *next_key = keys[(hop + 1) % 2];
		if (!answer_name(lk, names[hop], keys[hop % 2], klen, q->qtype, hop == 0, next,
				 next_key, &klen) ||
		    lk->txn->ret != CT_EOK) {
			return;
		}
		for (int i = 0; i <= hop; i++) {
			if (ct_dname_eq(names[i], next)) {
				return; /* a CNAME loop: the chain so far is the answer */
			}
		}
	}
}

static void put_header(uint8_t *resp, const ct_query_t *q, size_t qdcount)
{
	memset(resp, 0, CT_WIRE_HDRLEN);
	ct_put16(resp, q->id);
	resp[2] = (uint8_t)(0x80 | (q->opcode << 3) | (q->rd ? 0x01 : 0));
	resp[3] = q->cd ? 0x10 : 0;
	ct_put16(resp + 4, (uint16_t)qdcount);
}

/* Bytes of the ECS option echoed in the reply (RFC 7871 6): code, length, then its data. */
static size_t ecs_len(const ct_query_t *q)
{
	return q->has_ecs ? 4 + 4 + ((size_t)q->ecs_source_prefix + 7) / 8 : 0;
}

/* The OPT record of the response (RFC 6891 6.1.2), carrying the upper RCODE bits, and the
 * client subnet option with our scope when the query had one (RFC 7871 7.2.1). */
static size_t put_opt(uint8_t *p, const ct_query_t *q, int rcode, uint8_t scope)
{
	p[0] = 0;
	ct_put16(p + 1, CT_TYPE_OPT);
	ct_put16(p + 3, CT_EDNS_MAX_UDP);
	p[5] = (uint8_t)(rcode >> 4);
	p[6] = 0; /* version */
	p[7] = q->edns_do ? 0x80 : 0;
	p[8] = 0;
	size_t olen = ecs_len(q);
	ct_put16(p + 9, (uint16_t)olen);
	if (olen > 0) {
		uint8_t *o = p + OPT_RR_LEN;
		ct_put16(o, CT_EDNS_OPT_ECS);
		ct_put16(o + 2, (uint16_t)(olen - 4));
		ct_put16(o + 4, q->ecs_family);
		o[6] = q->ecs_source_prefix;
		o[7] = scope;
		memcpy(o + 8, q->ecs_addr, olen - 8);
	}
	return OPT_RR_LEN + olen;
}

static size_t finish(ct_wire_t *w, const ct_query_t *q, int rcode, bool with_opt, uint8_t scope)
{
	w->buf[3] = (uint8_t)((w->buf[3] & 0xF0) | (rcode & 0x0F));
	if (with_opt) {
		w->len += put_opt(w->buf + w->len, q, rcode, scope);
		ct_put16(w->buf + 10, (uint16_t)(ct_wire_count(w->buf, CT_SEC_ADDITIONAL) + 1));
	}
	return w->len;
}

/* Where the question is refused before lookup: classes and meta types we do not serve. */
static int check_question(const ct_query_t *q)
{
	switch (q->qtype) {
	case CT_TYPE_OPT:
	case CT_TYPE_TKEY:
	case CT_TYPE_TSIG:
		return CT_RCODE_FORMERR;
	case CT_TYPE_AXFR:
	case CT_TYPE_IXFR:
		return CT_RCODE_REFUSED; /* no zone transfers */
	case CT_TYPE_MAILA:
	case CT_TYPE_MAILB:
		return CT_RCODE_NOTIMP;
	default:
		break;
	}
	if (q->qclass != CT_CLASS_IN) {
		return CT_RCODE_REFUSED;
	}
	return CT_RCODE_NOERROR;
}

/* The answer from the cache entry e (and its pool plan); false when the plan now gives
 * nothing (then the caller looks the name up). */
static bool replay(lookup_t *lk, const ct_anscache_entry_t *e, const ct_pool_plan_t *plan)
{
	ct_wire_t *w = lk->w;
	ct_wire_mark_t start; /* after the question */
	ct_wire_mark(w, &start);
	memcpy(w->buf + w->len, e->data + e->name_len, e->body_len);
	w->len += e->body_len;
	for (int sec = 0; sec < 3; sec++) {
		ct_put16(w->buf + 6 + 2 * sec, e->counts[sec]);
	}
	lk->rcode = e->rcode;
	lk->aa = e->flags & CT_ANSCACHE_AA;
	lk->tc = e->flags & CT_ANSCACHE_TC;
	if (plan == NULL) {
		return true;
	}
	w->ncomp = plan->ncomp;
	memcpy(w->comp, plan->comp, sizeof(plan->comp[0]) * plan->ncomp);
	if (put_pool_plan(lk, plan)) {
		return true;
	}
	/* the plan's table begins with the question's labels, as the one at start did */
	ct_wire_rollback(w, &start);
	lk->tc = false;
	return false;
}

/* Keep the answer just built (before OPT) for the next same query in this snapshot. */
static void remember(lookup_t *lk, uint32_t hash, uint64_t txnid)
{
	const ct_query_t *q = lk->q;
	const uint8_t *msg = lk->w->buf;
	uint16_t counts[3];
	size_t end = lk->w->len;
	uint8_t flags = (lk->aa ? CT_ANSCACHE_AA : 0);
	if (lk->has_plan) {
		end = lk->pool_at.len;
		memcpy(counts, lk->pool_at.counts, sizeof(counts));
	} else {
		for (int sec = 0; sec < 3; sec++) {
			counts[sec] = ct_wire_count(msg, sec);
		}
		flags |= lk->tc ? CT_ANSCACHE_TC : 0;
	}
	ct_anscache_put(lk->ctx->cache, hash, q->qname, q->qname_len, q->qtype, lk->w->cap, txnid,
			msg + q->question_end, end - q->question_end, counts, lk->rcode, flags,
			lk->has_plan ? lk->plan : NULL);
}

/* The answer from the reader's snapshot txnid: from the cache when it has it, else looked up
 * (and then cached). */
static void answer_snapshot(lookup_t *lk, uint64_t txnid)
{
	const ct_query_t *q = lk->q;
	ct_answer_ctx_t *ctx = lk->ctx;
	uint32_t hash = 0;
	/* A body serves every letter case of its name: it may, as long as each name taken from
	 * the question (the owner, a delegation above it) is written as a pointer into it. Past
	 * CT_WIRE_COMP_MAX labels the table cannot hold them all, and some would be written out
	 * in the letter case of whoever asked first. */
	bool cache = ctx->cache != NULL && ct_dname_labels(q->qname) <= CT_WIRE_COMP_MAX;
	if (cache) {
		hash = lk->token != 0 ? lk->token
				      : ct_anscache_hash(ctx->cache, q->qname, q->qname_len, q->qtype);
		const ct_pool_plan_t *plan;
		const ct_anscache_entry_t *e = ct_anscache_find(ctx->cache, hash, q->qname,
								q->qname_len, q->qtype, lk->w->cap,
								txnid, &plan);
		if (e != NULL && replay(lk, e, plan)) {
			ct_counter_inc(&ctx->cache_hits);
			return;
		}
		ct_counter_inc(&ctx->cache_misses);
	}
	lookup(lk);
	if (cache && lk->txn->ret == CT_EOK && !lk->nocache) {
		remember(lk, hash, txnid);
	}
}

void ct_answer_batch_begin(ct_answer_ctx_t *ctx)
{
	ctx->batch = true;
	ctx->batch_ret = ct_reader_renew(&ctx->txn);
	ctx->batch_txnid = ctx->batch_ret == CT_EOK ? mdb_txn_id(ctx->txn.txn) : 0;
}

void ct_answer_batch_end(ct_answer_ctx_t *ctx)
{
	if (ctx->batch_ret == CT_EOK) {
		ct_reader_reset(&ctx->txn);
	}
	ctx->batch = false;
}

uint32_t ct_answer_prefetch(const ct_answer_ctx_t *ctx, const uint8_t *pkt, size_t len)
{
	if (ctx->cache == NULL || len < CT_WIRE_HDRLEN || ct_get16(pkt + 4) != 1) {
		return 0;
	}
	int n = ct_query_qname_len(pkt, len);
	if (n < 0) {
		return 0;
	}
	uint32_t hash = ct_anscache_hash(ctx->cache, pkt + CT_WIRE_HDRLEN, (size_t)n,
					 ct_get16(pkt + CT_WIRE_HDRLEN + n));
	ct_anscache_prefetch_set(ctx->cache, hash);
	return hash;
}

void ct_answer_prefetch_entry(const ct_answer_ctx_t *ctx, uint32_t token)
{
	if (token != 0) {
		ct_anscache_prefetch_entry(ctx->cache, token);
	}
}

size_t ct_answer(ct_answer_ctx_t *ctx, const uint8_t *pkt, size_t len, bool tcp,
		 const struct sockaddr *src, uint8_t *resp, size_t cap)
{
	ct_query_t q;
	uint32_t token = ctx->token;
	ctx->token = 0;
	ct_counter_inc(&ctx->queries);
	int rcode = ct_query_parse(pkt, len, &q);
	if (rcode == CT_QUERY_DROP) {
		ct_counter_inc(&ctx->dropped);
		return 0;
	}
	size_t limit = tcp ? 65535 : (q.edns ? q.udp_size : 512);
	if (!tcp && limit > CT_EDNS_MAX_UDP) {
		limit = CT_EDNS_MAX_UDP;
	}
	if (limit > cap) {
		limit = cap;
	}
	ct_wire_t w;
	ct_wire_init(&w, resp, limit);
	put_header(resp, &q, q.has_question ? 1 : 0);
	w.len = CT_WIRE_HDRLEN;
	if (q.has_question) {
		memcpy(resp + CT_WIRE_HDRLEN, pkt + CT_WIRE_HDRLEN, q.question_end - CT_WIRE_HDRLEN);
		w.len = q.question_end;
		ct_wire_remember(&w, CT_WIRE_HDRLEN);
	}
	/* CH TXT id.server and version.bind, when configured (the reply fits in 512 octets with
	 * any OPT: the names are short, the text at most 255 octets) */
	if (rcode == CT_RCODE_NOERROR && ct_chaos_put(ctx->chaos, &q, &w)) {
		resp[2] |= 0x04; /* AA, as NSD and Knot */
		count_response(ctx, &q, tcp, rcode);
		return finish(&w, &q, rcode, q.edns, 0);
	}
	if (rcode == CT_RCODE_NOERROR) {
		rcode = check_question(&q);
	}
	if (rcode != CT_RCODE_NOERROR) {
		count_response(ctx, &q, tcp, rcode);
		return finish(&w, &q, rcode, q.edns, 0);
	}
	if (q.edns) {
		w.cap -= OPT_RR_LEN + ecs_len(&q); /* keep room for our OPT */
	}

	ct_pool_plan_t plan;
	lookup_t lk = { .ctx = ctx, .txn = &ctx->txn, .w = &w, .q = &q, .src = src, .plan = &plan,
			.token = token };
	bool own = !ctx->batch; /* outside a batch, this query renews the reader itself */
	int ret = own ? ct_reader_renew(&ctx->txn) : ctx->batch_ret;
	ctx->txn.ret = ret;
	if (ret == CT_EOK) {
		answer_snapshot(&lk, own ? mdb_txn_id(ctx->txn.txn) : ctx->batch_txnid);
		if (own) {
			ct_reader_reset(&ctx->txn);
		}
	}
	if (lk.txn->ret != CT_EOK) {
		/* database trouble: say so with SERVFAIL rather than a wrong answer */
		ct_counter_inc(&ctx->db_errors);
		if (ct_log_ratelimit(&ctx->log_last)) {
			log_err("query failed reason=\"%s\"", ct_strerror(lk.txn->ret));
		}
		w.len = q.question_end;
		memset(resp + 6, 0, 6);
		lk.rcode = CT_RCODE_SERVFAIL;
		lk.aa = false;
		lk.tc = false;
		lk.ecs_scope = 0;
	}
	if (lk.aa) {
		resp[2] |= 0x04;
	}
	if (lk.tc) {
		resp[2] |= 0x02;
	}
	w.cap = limit;
	count_response(ctx, &q, tcp, lk.rcode);
	return finish(&w, &q, lk.rcode, q.edns, lk.ecs_scope);
}
