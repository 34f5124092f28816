/* SPDX-License-Identifier: MIT */
/* /metrics: the workers' counters summed (relaxed loads, no lock), the prober's check
 * statistics, and pools, health, shifts, zones and the LMDB map read in one transaction. */
#include "metrics.h"
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/log.h"
#include "cutover/pool.h"
#include "cutover/pooltext.h"
#include "cutover/shift.h"
#include "cutover/wire.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t metrics_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t metrics_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* # HELP and # TYPE of a metric family. */
static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped (exposition format). */
static void put_value(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') {
			evbuffer_add_printf(b, "\\%c", *v);
		} else if (*v == '\n') {
			evbuffer_add(b, "\\n", 2);
		} else {
			evbuffer_add(b, v, 1);
		}
	}
}

/* name{k1="v1",k2="v2"...} value: labels as a NULL-terminated list of key, value pairs. */
static void sample(struct evbuffer *b, const char *name, const char *const *labels,
                   const char *value)
{
	evbuffer_add_printf(b, "%s", name);
	for (int i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		evbuffer_add_printf(b, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
		put_value(b, labels[i + 1]);
		evbuffer_add(b, "\"", 1);
	}
	evbuffer_add_printf(b, "%s %s\n", labels != NULL && labels[0] != NULL ? "}" : "", value);
}

static void sample_u64(struct evbuffer *b, const char *name, const char *const *labels, uint64_t v)
{
	char text[32];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	sample(b, name, labels, text);
}

static void sample_f(struct evbuffer *b, const char *name, const char *const *labels, double v)
{
	char text[48];
	snprintf(text, sizeof(text), "%.15g", v);
	sample(b, name, labels, text);
}

/* "api.app.example." and "A" of a pools-db key; false when the key is bad. */
static bool pool_labels(const uint8_t *key, size_t klen, char *name, const char **type)
{
	MDB_val k = { klen, (void *)key };
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t t;
	if (ct_pool_key_owner(&k, owner, &t) != CT_EOK) {
		return false;
	}
	ct_dname_to_str(owner, name);
	*type = ct_pooltext_type_name(t);
	return true;
}

/* ------------------------------------------------------------------------------------------
 * Pool answers, summed over the workers' tables. */

static int cmp_pool(const void *a, const void *b)
{
	const metrics_pool_t *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	if (c == 0 && x->klen != y->klen) {
		c = x->klen < y->klen ? -1 : 1;
	}
	return c != 0 ? c : strcmp(x->group, y->group);
}

int metrics_pool_answers(const metrics_src_t *src, metrics_pool_t **out)
{
	size_t n = 0, cap = 64;
	metrics_pool_t *all = malloc(cap * sizeof(*all));
	if (all == NULL) {
		return -1;
	}
	for (int w = 0; w < src->nworkers; w++) {
		ct_poolstats_t *ps = src->workers[w].answer.pools;
		for (int i = 0; ps != NULL && i < CT_POOLSTAT_SLOTS; i++) {
			ct_poolstat_t *s = &ps->slot[i];
			if (atomic_load_explicit(&s->used, memory_order_acquire) == 0) {
				continue;
			}
			if (n == cap) {
				metrics_pool_t *more = realloc(all, 2 * cap * sizeof(*all));
				if (more == NULL) {
					free(all);
					return -1;
				}
				all = more;
				cap *= 2;
			}
			metrics_pool_t *p = &all[n++];
			memcpy(p->key, ps->arena + s->off, s->klen);
			p->klen = s->klen;
			memcpy(p->group, ps->arena + s->off + s->klen, s->glen);
			p->group[s->glen] = '\0';
			p->answers = ct_counter_get(&s->answers);
			p->previews = ct_counter_get(&s->previews);
			p->fail_open = ct_counter_get(&s->fail_open);
		}
	}
	qsort(all, n, sizeof(*all), cmp_pool);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && cmp_pool(&all[m - 1], &all[i]) == 0) {
			all[m - 1].answers += all[i].answers;
			all[m - 1].previews += all[i].previews;
			all[m - 1].fail_open += all[i].fail_open;
		} else {
			all[m++] = all[i];
		}
	}
	*out = all;
	return (int)m;
}

/* ------------------------------------------------------------------------------------------
 * The sections of /metrics. */

static void write_process(const metrics_src_t *src, struct evbuffer *b)
{
	const char *build[] = { "version", CUTOVER_VERSION, NULL };
	family(b, "cutover_build_info", "gauge", "Always 1; the version of cutoverd.");
	sample_u64(b, "cutover_build_info", build, 1);
	family(b, "cutover_process_start_time_seconds", "gauge",
	       "Start time of cutoverd since the Unix epoch, in seconds.");
	sample_f(b, "cutover_process_start_time_seconds", NULL, (double)src->start_ms / 1000.0);
	family(b, "cutover_uptime_seconds", "gauge", "Seconds since cutoverd started.");
	sample_f(b, "cutover_uptime_seconds", NULL,
	         (double)(metrics_mono_ms() - src->start_mono_ms) / 1000.0);
	family(b, "cutover_worker_threads", "gauge",
	       "Query workers (--threads); each runs a UDP thread per listen address and a TCP thread.");
	sample_u64(b, "cutover_worker_threads", NULL, (uint64_t)src->threads);
}

static uint64_t sum_counter(const metrics_src_t *src, size_t offset)
{
	uint64_t total = 0;
	for (int w = 0; w < src->nworkers; w++) {
		total += ct_counter_get((ct_counter_t *)((char *)&src->workers[w].answer + offset));
	}
	return total;
}

/* A counter family of one series: a ct_answer_ctx_t counter summed over the workers. */
static void worker_counter(const metrics_src_t *src, struct evbuffer *b, const char *name,
                           const char *help, size_t offset)
{
	family(b, name, "counter", help);
	sample_u64(b, name, NULL, sum_counter(src, offset));
}

static void write_queries(const metrics_src_t *src, struct evbuffer *b)
{
	worker_counter(src, b, "cutover_queries_total", "DNS messages received, answered or not.",
	               offsetof(ct_answer_ctx_t, queries));
	family(b, "cutover_responses_total", "counter",
	       "Responses sent, by protocol, query type and RCODE.");
	for (int p = 0; p < CT_STAT_PROTOS; p++) {
		for (int t = 0; t < CT_STAT_QTYPES; t++) {
			for (int r = 0; r < CT_STAT_RCODES; r++) {
				uint64_t n = 0;
				for (int w = 0; w < src->nworkers; w++) {
					n += ct_counter_get(
					    &src->workers[w].answer.responses[p][t][r]);
				}
				/* every A/AAAA NOERROR series, the rest once they happen */
				bool common = (t <= 1 && r == 0);
				if (n == 0 && !common) {
					continue;
				}
				const char *labels[] = { "proto", p == CT_STAT_TCP ? "tcp" : "udp",
					                 "qtype", ct_answer_stat_qtype_name(t),
					                 "rcode", ct_answer_stat_rcode_name(r),
					                 NULL };
				sample_u64(b, "cutover_responses_total", labels, n);
			}
		}
	}
	worker_counter(src, b, "cutover_queries_dropped_total",
	               "Messages dropped without a reply (shorter than a header, QR set, oversized).",
	               offsetof(ct_answer_ctx_t, dropped));
	worker_counter(src, b, "cutover_db_errors_total",
	               "Queries answered SERVFAIL because the database could not be read.",
	               offsetof(ct_answer_ctx_t, db_errors));
	worker_counter(src, b, "cutover_fail_open_answers_total",
	               "Pool answers given as if every target were up, because all were down.",
	               offsetof(ct_answer_ctx_t, fail_open));
	worker_counter(src, b, "cutover_answer_cache_hits_total",
	               "Answers copied from the answer cache (built from the same database snapshot).",
	               offsetof(ct_answer_ctx_t, cache_hits));
	worker_counter(src, b, "cutover_answer_cache_misses_total",
	               "Answers looked up in the database (name not cached, or the database changed).",
	               offsetof(ct_answer_ctx_t, cache_misses));
}

/* Response rate limiting: what each class lost, what slipped, and table pressure. */
static void write_rrl(const metrics_src_t *src, struct evbuffer *b)
{
	family(b, "cutover_rrl_limited_total", "counter",
	       "UDP responses over the rate limit (dropped or slipped), by class of response.");
	for (int c = 0; c < CT_RRL_CLASSES; c++) {
		uint64_t n = 0;
		for (int w = 0; w < src->nworkers; w++) {
			n += ct_counter_get(&src->workers[w].rrl_stats.limited[c]);
		}
		const char *labels[] = { "class", ct_rrl_class_name(c), NULL };
		sample_u64(b, "cutover_rrl_limited_total", labels, n);
	}
	uint64_t slipped = 0, evicted = 0;
	for (int w = 0; w < src->nworkers; w++) {
		slipped += ct_counter_get(&src->workers[w].rrl_stats.slipped);
		evicted += ct_counter_get(&src->workers[w].rrl_stats.evicted);
	}
	family(b, "cutover_rrl_slipped_total", "counter",
	       "Limited UDP responses sent truncated (TC=1) so that clients retry over TCP.");
	sample_u64(b, "cutover_rrl_slipped_total", NULL, slipped);
	family(b, "cutover_rrl_evictions_total", "counter",
	       "Rate limit buckets taken over while in use: raise rrl-table-size.");
	sample_u64(b, "cutover_rrl_evictions_total", NULL, evicted);
}

/* A pool answers family: every group of every pool (0 until it answers), then what was counted
 * for pools and groups that are gone (counters live as long as the process). */
static void write_pool_answers(ct_txn_t *txn, struct evbuffer *b, ct_pool_t *pool,
                               metrics_pool_t *sums, int n, const char *name, const char *help,
                               size_t offset)
{
	family(b, name, "counter", help);
	bool *shown = calloc((size_t)n + 1, sizeof(*shown));
	MDB_val k, v;
	for (bool found = ct_txn_seek(txn, txn->store->pools, NULL, 0, &k, &v); found;
	     found = ct_txn_next(txn, txn->store->pools, &k, &v)) {
		char pname[CT_DNAME_STRLEN];
		const char *type;
		if (k.mv_size > CT_RR_KEY_MAXLEN ||
		    !pool_labels(k.mv_data, k.mv_size, pname, &type) ||
		    ct_pool_decode(v.mv_data, v.mv_size, pool) != CT_EOK) {
			continue;
		}
		for (int g = 0; g < pool->ngroups; g++) {
			metrics_pool_t want = { .klen = k.mv_size };
			memcpy(want.key, k.mv_data, k.mv_size);
			snprintf(want.group, sizeof(want.group), "%s", pool->groups[g].name);
			metrics_pool_t *got =
			    bsearch(&want, sums, (size_t)n, sizeof(*sums), cmp_pool);
			if (got != NULL && shown != NULL) {
				shown[got - sums] = true;
			}
			const char *labels[] = { "pool",  pname,      "type", type,
				                 "group", want.group, NULL };
			sample_u64(b, name, labels, got ? *(uint64_t *)((char *)got + offset) : 0);
		}
	}
	for (int i = 0; i < n && shown != NULL; i++) {
		char pname[CT_DNAME_STRLEN];
		const char *type;
		if (!shown[i] && pool_labels(sums[i].key, sums[i].klen, pname, &type)) {
			const char *labels[] = { "pool",  pname,         "type", type,
				                 "group", sums[i].group, NULL };
			sample_u64(b, name, labels, *(uint64_t *)((char *)&sums[i] + offset));
		}
	}
	free(shown);
}

static void write_pools_answered(const metrics_src_t *src, ct_txn_t *txn, struct evbuffer *b,
                                 ct_pool_t *pool)
{
	metrics_pool_t *sums = NULL;
	int n = metrics_pool_answers(src, &sums);
	if (n < 0) {
		return;
	}
	write_pool_answers(txn, b, pool, sums, n, "cutover_pool_answers_total",
	                   "Pool answers by pool, type and group.",
	                   offsetof(metrics_pool_t, answers));
	write_pool_answers(txn, b, pool, sums, n, "cutover_pool_preview_answers_total",
	                   "Answers under a group's preview name, by pool, type and group.",
	                   offsetof(metrics_pool_t, previews));
	write_pool_answers(txn, b, pool, sums, n, "cutover_pool_fail_open_answers_total",
	                   "Pool answers given with every target down (fail-open), by pool, type "
	                   "and group.",
	                   offsetof(metrics_pool_t, fail_open));
	free(sums);
	uint64_t uncounted = 0;
	for (int w = 0; w < src->nworkers; w++) {
		uncounted += ct_counter_get(&src->workers[w].answer.pools->uncounted);
	}
	family(b, "cutover_pool_answers_uncounted_total", "counter",
	       "Pool answers not counted by pool because a worker's table was full.");
	sample_u64(b, "cutover_pool_answers_uncounted_total", NULL, uncounted);
}

/* Weights, shares and target health of every pool. */
static void write_pools(ct_txn_t *txn, struct evbuffer *b, ct_pool_t *pool)
{
	static const char *fams[][3] = {
		{ "cutover_pool_weight", "gauge", "A group's weight." },
		{ "cutover_pool_share_ratio", "gauge",
		  "The share of answers a group gets while all its targets are up (0 to 1)." },
		{ "cutover_target_healthy", "gauge",
		  "1 when the prober has not found the target down (never checked counts as up)." },
		{ "cutover_target_drained", "gauge", "1 when an operator drained the target." },
	};
	for (size_t f = 0; f < 4; f++) {
		family(b, fams[f][0], fams[f][1], fams[f][2]);
		MDB_val k, v;
		for (bool found = ct_txn_seek(txn, txn->store->pools, NULL, 0, &k, &v); found;
		     found = ct_txn_next(txn, txn->store->pools, &k, &v)) {
			char name[CT_DNAME_STRLEN];
			const char *type;
			if (!pool_labels(k.mv_data, k.mv_size, name, &type) ||
			    ct_pool_decode(v.mv_data, v.mv_size, pool) != CT_EOK) {
				continue;
			}
			double share[CT_POOL_MAX_GROUPS];
			ct_pooltext_shares(pool, share);
			for (int g = 0; g < pool->ngroups; g++) {
				const ct_pool_group_t *gr = &pool->groups[g];
				const char *labels[] = { "pool",   name,     "type", type, "group",
					                 gr->name, "target", NULL,   NULL };
				if (f == 0) {
					labels[6] = NULL;
					sample_u64(b, fams[f][0], labels, gr->weight);
					continue;
				}
				if (f == 1) {
					labels[6] = NULL;
					sample_f(b, fams[f][0], labels, share[g] / 100.0);
					continue;
				}
				for (int t = 0; t < gr->ntargets; t++) {
					char addr[CT_POOLTEXT_ADDRLEN];
					ct_health_t h;
					ct_pooltext_addr_str(pool->type, gr->targets[t], addr);
					ct_health_get(txn, k.mv_data, k.mv_size, gr->targets[t],
					              pool->type == CT_TYPE_AAAA ? 16 : 4, &h);
					labels[7] = addr;
					sample_u64(b, fams[f][0], labels,
					           f == 2 ? h.state != CT_HEALTH_DOWN : h.drained);
				}
			}
		}
	}
}

typedef struct {
	struct evbuffer *b;
	int section; /* 0: histogram, 1: checks, 2: failures */
	uint64_t targets;
} target_walk_t;

static void write_target(const prober_target_stats_t *t, void *arg)
{
	target_walk_t *tw = arg;
	struct evbuffer *b = tw->b;
	char pool[sizeof(t->pool)];
	snprintf(pool, sizeof(pool), "%s", t->pool);
	char *slash = strrchr(pool, '/');
	const char *type = "A";
	if (slash != NULL) {
		*slash = '\0';
		type = slash + 1;
	}
	const char *labels[] = { "pool", pool, "type", type, "target", t->addr, NULL, NULL, NULL };
	tw->targets++;
	if (tw->section == 1) {
		sample_u64(b, "cutover_target_checks_total", labels, t->checks);
		return;
	}
	if (tw->section == 2) {
		sample_u64(b, "cutover_target_check_failures_total", labels, t->failures);
		return;
	}
	uint64_t cum = 0;
	for (int i = 0; i <= PROBER_LATENCY_BUCKETS; i++) {
		char le[32];
		if (i < PROBER_LATENCY_BUCKETS) {
			snprintf(le, sizeof(le), "%g", prober_latency_bounds_us[i] / 1e6);
		} else {
			snprintf(le, sizeof(le), "+Inf");
		}
		cum += t->latency_count[i];
		labels[6] = "le";
		labels[7] = le;
		sample_u64(b, "cutover_target_check_latency_seconds_bucket", labels, cum);
	}
	labels[6] = NULL;
	sample_f(b, "cutover_target_check_latency_seconds_sum", labels, t->latency_sum_us / 1e6);
	sample_u64(b, "cutover_target_check_latency_seconds_count", labels, cum);
}

static void write_prober(const metrics_src_t *src, struct evbuffer *b)
{
	uint64_t errors[PROBE_ERR_KINDS] = { 0 };
	target_walk_t tw = { .b = b };
	family(b, "cutover_target_check_latency_seconds", "histogram",
	       "Time a passing health check took, by target.");
	if (src->prober != NULL) {
		prober_stats(src->prober, write_target, &tw, errors);
	}
	uint64_t ntargets = tw.targets;
	family(b, "cutover_target_checks_total", "counter", "Health checks run, by target.");
	tw.section = 1;
	if (src->prober != NULL) {
		prober_stats(src->prober, write_target, &tw, errors);
	}
	family(b, "cutover_target_check_failures_total", "counter",
	       "Health checks that failed, by target.");
	tw.section = 2;
	if (src->prober != NULL) {
		prober_stats(src->prober, write_target, &tw, errors);
	}
	family(b, "cutover_prober_errors_total", "counter",
	       "Failed health checks by kind of error.");
	for (int k = 0; k < PROBE_ERR_KINDS; k++) {
		const char *labels[] = { "kind", prober_error_kind_name(k), NULL };
		sample_u64(b, "cutover_prober_errors_total", labels, errors[k]);
	}
	family(b, "cutover_prober_targets", "gauge", "Targets the prober checks.");
	sample_u64(b, "cutover_prober_targets", NULL, ntargets);
}

static const char *shift_kind_name(uint8_t kind)
{
	return kind == CT_SHIFT_CANARY ? "canary" : kind == CT_SHIFT_LINEAR ? "linear" : "steps";
}

/* Running and paused shifts. */
static void write_shifts(ct_txn_t *txn, struct evbuffer *b, ct_shift_t *s)
{
	static const char *fams[][2] = {
		{ "cutover_shift_traffic_ratio",
		  "The share of traffic the shift has given its group (0 to 1)." },
		{ "cutover_shift_steps_done", "Steps of the shift applied so far." },
		{ "cutover_shift_steps", "Steps of the shift in all." },
		{ "cutover_shift_paused", "1 while the shift is paused." },
		{ "cutover_shift_next_step_timestamp_seconds",
		  "When the next step is due, since the Unix epoch (0 while paused)." },
	};
	for (size_t f = 0; f < 5; f++) {
		family(b, fams[f][0], "gauge", fams[f][1]);
		MDB_val k, v;
		for (bool found = ct_txn_seek(txn, txn->store->schedules, NULL, 0, &k, &v); found;
		     found = ct_txn_next(txn, txn->store->schedules, &k, &v)) {
			char name[CT_DNAME_STRLEN];
			const char *type;
			if (!pool_labels(k.mv_data, k.mv_size, name, &type) ||
			    ct_shift_parse(&v, s) != CT_EOK || !ct_shift_active(s)) {
				continue;
			}
			const char *labels[] = { "pool",  name,
				                 "type",  type,
				                 "group", s->group,
				                 "kind",  shift_kind_name(s->kind),
				                 NULL };
			unsigned pct =
			    s->done > 0 && s->done <= s->nsteps ? s->steps[s->done - 1] : 0;
			switch (f) {
			case 0:
				sample_f(b, fams[f][0], labels, pct / 100.0);
				break;
			case 1:
				sample_u64(b, fams[f][0], labels, s->done);
				break;
			case 2:
				sample_u64(b, fams[f][0], labels, s->nsteps);
				break;
			case 3:
				sample_u64(b, fams[f][0], labels, s->state == CT_SHIFT_PAUSED);
				break;
			default:
				sample_f(b, fams[f][0], labels,
				         s->state == CT_SHIFT_PAUSED ? 0 : s->next_ms / 1000.0);
				break;
			}
		}
	}
}

static void write_zones(ct_txn_t *txn, struct evbuffer *b)
{
	family(b, "cutover_zone_serial", "gauge", "The SOA serial of each zone.");
	MDB_val k, v;
	for (bool found = ct_txn_seek(txn, txn->store->zones, NULL, 0, &k, &v); found;
	     found = ct_txn_next(txn, txn->store->zones, &k, &v)) {
		ct_zone_t zone;
		char name[CT_DNAME_STRLEN];
		if (ct_zone_parse(&v, &zone) != CT_EOK) {
			continue;
		}
		const char *labels[] = { "zone", ct_dname_to_str(zone.apex, name), NULL };
		sample_u64(b, "cutover_zone_serial", labels, zone.serial);
	}
}

static void write_db(const metrics_src_t *src, struct evbuffer *b)
{
	MDB_envinfo info;
	MDB_stat st;
	if (ct_store_info(src->store, &info, &st) != 0) {
		return;
	}
	family(b, "cutover_db_map_size_bytes", "gauge",
	       "Size of the LMDB map (the most it can hold).");
	sample_u64(b, "cutover_db_map_size_bytes", NULL, info.me_mapsize);
	family(b, "cutover_db_used_bytes", "gauge",
	       "Bytes of the LMDB map in use (pages up to the last).");
	sample_u64(b, "cutover_db_used_bytes", NULL,
	           (uint64_t)(info.me_last_pgno + 1) * st.ms_psize);
	family(b, "cutover_db_readers", "gauge", "LMDB reader slots in use.");
	sample_u64(b, "cutover_db_readers", NULL, info.me_numreaders);
	family(b, "cutover_db_readers_max", "gauge", "LMDB reader slots in all.");
	sample_u64(b, "cutover_db_readers_max", NULL, info.me_maxreaders);
}

int metrics_write(const metrics_src_t *src, struct evbuffer *out)
{
	write_process(src, out);
	write_queries(src, out);
	write_rrl(src, out);
	write_prober(src, out);
	write_db(src, out);
	ct_pool_t *pool = malloc(sizeof(*pool));
	ct_shift_t *shift = malloc(sizeof(*shift));
	ct_txn_t txn;
	int ret = CT_ENOMEM;
	if (pool != NULL && shift != NULL) {
		ct_txn_begin(src->store, &txn, false);
		if (txn.ret == CT_EOK) {
			write_pools_answered(src, &txn, out, pool);
			write_pools(&txn, out, pool);
			write_shifts(&txn, out, shift);
			write_zones(&txn, out);
		}
		ret = txn.ret;
		ct_txn_abort(&txn);
	}
	free(pool);
	free(shift);
	if (ret != CT_EOK) {
		log_err("metrics cannot read the database reason=\"%s\"", ct_strerror(ret));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * The fail-open watcher. */

struct metrics_watch {
	const metrics_src_t *src;
	struct event *ev;
	metrics_pool_t *last;
	int nlast;
	int interval_s;
};

static uint64_t last_fail_open(const metrics_watch_t *mw, const metrics_pool_t *p)
{
	for (int i = 0; i < mw->nlast; i++) {
		if (cmp_pool(&mw->last[i], p) == 0) {
			return mw->last[i].fail_open;
		}
	}
	return 0;
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	metrics_watch_t *mw = arg;
	metrics_pool_t *now = NULL;
	int n = metrics_pool_answers(mw->src, &now);
	if (n < 0) {
		return;
	}
	/* one line per pool: the groups' fail-open answers added up */
	for (int i = 0; i < n;) {
		uint64_t delta = 0;
		int j = i;
		for (; j < n && now[j].klen == now[i].klen &&
		       memcmp(now[j].key, now[i].key, now[i].klen) == 0;
		     j++) {
			delta += now[j].fail_open - last_fail_open(mw, &now[j]);
		}
		char name[CT_DNAME_STRLEN];
		const char *type;
		if (delta > 0 && pool_labels(now[i].key, now[i].klen, name, &type)) {
			log_warn("fail-open pool=%s/%s answers=%llu seconds=%d reason=\"every "
			         "target down: answering as if all were up\"",
			         name, type, (unsigned long long)delta, mw->interval_s);
		}
		i = j;
	}
	free(mw->last);
	mw->last = now;
	mw->nlast = n;
}

metrics_watch_t *metrics_watch_new(const metrics_src_t *src, struct event_base *base,
                                   int interval_s)
{
	metrics_watch_t *mw = calloc(1, sizeof(*mw));
	if (mw == NULL) {
		return NULL;
	}
	mw->src = src;
	mw->interval_s = interval_s;
	mw->ev = event_new(base, -1, EV_PERSIST, watch_cb, mw);
	struct timeval tv = { interval_s, 0 };
	if (mw->ev == NULL || event_add(mw->ev, &tv) != 0) {
		metrics_watch_free(mw);
		return NULL;
	}
	return mw;
}

void metrics_watch_free(metrics_watch_t *mw)
{
	if (mw == NULL) {
		return;
	}
	if (mw->ev != NULL) {
		event_free(mw->ev);
	}
	free(mw->last);
	free(mw);
}
