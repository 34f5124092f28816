/* SPDX-License-Identifier: MIT */
/* The prober thread: keeps one timer per pool target with a check, follows pool changes in
 * LMDB, applies rise/fall to results and writes state changes and check results in batches. */
#include "prober.h"
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/log.h"
#include "cutover/pool.h"
#include "cutover/shift.h"

#include <arpa/inet.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCAN_MS      100  /* how often to look for pool changes (one mdb_env_info) */
#define FLUSH_MS     100  /* state changes reach the database within this */
#define RESULTS_MS   2000 /* last-check results are written at most this often */
#define SCHED_MS     100  /* shifts: steps and health gates are looked at this often */

typedef struct target {
	struct prober *pr;
	uint8_t key[CT_HEALTH_KEY_MAX]; /* pool key + address: the health key */
	size_t klen, pklen;
	uint8_t addr_len;
	char name[CT_DNAME_STRLEN + 8]; /* "api.app.example./A" for logs */
	char addr_text[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	socklen_t salen;
	ct_pool_check_t check;
	probe_spec_t spec;
	struct event *timer;
	bool in_flight;
	uint64_t due_ms;  /* next check, monotonic: a fixed phase, so checks stay spread */
	bool seen;      /* still in the pools db at the last scan */
	bool dirty;     /* has results not yet written */
	bool changed;   /* state changed: write soon */
	bool removed;   /* pool or target gone: free when its check returns */
	ct_health_t h;
	prober_target_stats_t st; /* for metrics: under pr->lock */
	struct target *next;
	struct target *hnext; /* in its bucket of pr->index */
} target_t;

#define TARGET_BUCKETS 4096 /* scans look every target up: keep that O(1) */

struct prober {
	ct_store_t *store;
	struct event_base *base;
	SSL_CTX *ssl;
	pthread_t thread;
	struct event *scan_ev, *flush_ev, *sched_ev;
	size_t last_txnid;
	uint64_t last_results_ms;
	target_t *targets;
	target_t *index[TARGET_BUCKETS];
	ct_shift_t *shift; /* scratch for the scheduler, allocated once */
	ct_pool_t *pool;
	bool running;
	bool stopping; /* prober_free is cancelling the checks still running */
	/* Metrics readers on other threads: the target list's membership and every target's
	 * st, and errors, change only under this lock (never taken on the query path). */
	pthread_mutex_t lock;
	uint64_t errors[PROBE_ERR_KINDS];
};

const uint32_t prober_latency_bounds_us[PROBER_LATENCY_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
};

const char *prober_error_kind_name(int kind)
{
	static const char *names[PROBE_ERR_KINDS] = { "timeout",       "refused",     "connect",
		                                      "tls",           "http_status", "http_body",
		                                      "http_protocol", "resources" };
	return kind >= 0 && kind < PROBE_ERR_KINDS ? names[kind] : "other";
}

/* The kind of a failed check, from the messages of prober_check.c. */
static int error_kind(const char *error)
{
	static const struct {
		const char *prefix;
		int kind;
	} kinds[] = {
		{ "timeout", PROBE_ERR_TIMEOUT },
		{ "TLS", PROBE_ERR_TLS },
		{ "HTTP status", PROBE_ERR_HTTP_STATUS },
		{ "body lacks", PROBE_ERR_HTTP_BODY },
		{ "empty HTTP", PROBE_ERR_HTTP_PROTOCOL },
		{ "not an HTTP", PROBE_ERR_HTTP_PROTOCOL },
		{ "malformed HTTP", PROBE_ERR_HTTP_PROTOCOL },
		{ "cannot start TLS", PROBE_ERR_TLS },
		{ "cannot start", PROBE_ERR_RESOURCES },
		{ "Connection refused", PROBE_ERR_REFUSED },
	};
	for (size_t i = 0; error != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strncmp(error, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			return kinds[i].kind;
		}
	}
	return PROBE_ERR_CONNECT;
}

static void count_check(target_t *t, bool ok, const char *error, uint32_t latency_us)
{
	prober_t *pr = t->pr;
	pthread_mutex_lock(&pr->lock);
	t->st.checks++;
	t->st.state = t->h.state;
	if (ok) {
		int b = 0;
		while (b < PROBER_LATENCY_BUCKETS && latency_us > prober_latency_bounds_us[b]) {
			b++;
		}
		t->st.latency_count[b]++;
		t->st.latency_sum_us += latency_us;
	} else {
		t->st.failures++;
		pr->errors[error_kind(error)]++;
	}
	pthread_mutex_unlock(&pr->lock);
}

void prober_stats(prober_t *pr, void (*cb)(const prober_target_stats_t *t, void *arg), void *arg,
                  uint64_t *errors)
{
	pthread_mutex_lock(&pr->lock);
	for (target_t *t = pr->targets; t != NULL; t = t->next) {
		cb(&t->st, arg);
	}
	memcpy(errors, pr->errors, sizeof(pr->errors));
	pthread_mutex_unlock(&pr->lock);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *state_name(uint8_t state)
{
	return state == CT_HEALTH_UP ? "up" : state == CT_HEALTH_DOWN ? "down" : "unknown";
}

/* FNV-1a of a health key: the bucket of a target, and the phase of its checks. */
static uint64_t key_hash(const uint8_t *key, size_t klen)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < klen; i++) {
		h = (h ^ key[i]) * 1099511628211ULL;
	}
	return h;
}

static target_t **bucket(prober_t *pr, const uint8_t *key, size_t klen)
{
	return &pr->index[key_hash(key, klen) % TARGET_BUCKETS];
}

static target_t *find_target(prober_t *pr, const uint8_t *key, size_t klen)
{
	for (target_t *t = *bucket(pr, key, klen); t != NULL; t = t->hnext) {
		if (t->klen == klen && memcmp(t->key, key, klen) == 0) {
			return t;
		}
	}
	return NULL;
}

static void unindex(prober_t *pr, target_t *t)
{
	for (target_t **tp = bucket(pr, t->key, t->klen); *tp != NULL; tp = &(*tp)->hnext) {
		if (*tp == t) {
			*tp = t->hnext;
			return;
		}
	}
}

static void free_target(target_t *t)
{
	event_free(t->timer);
	free(t);
}

static void check_done(void *arg, bool ok, const char *error, uint32_t latency_us)
{
	target_t *t = arg;
	t->in_flight = false;
	if (t->removed) {
		free_target(t);
		return;
	}
	if (t->pr->stopping) {
		return; /* cancelled by prober_free: not a result */
	}
	ct_health_t *h = &t->h;
	h->last_ms = now_ms();
	h->last_ok = ok;
	h->latency_us = latency_us;
	snprintf(h->error, sizeof(h->error), "%s", ok ? "" : error);
	t->dirty = true;
	uint8_t old = h->state;
	if (ok) {
		h->fail_run = 0;
		if (h->ok_run < UINT16_MAX) {
			h->ok_run++;
		}
		if (h->state != CT_HEALTH_UP && h->ok_run >= t->check.rise) {
			h->state = CT_HEALTH_UP;
		}
	} else {
		h->ok_run = 0;
		if (h->fail_run < UINT16_MAX) {
			h->fail_run++;
		}
		if (h->state != CT_HEALTH_DOWN && h->fail_run >= t->check.fall) {
			h->state = CT_HEALTH_DOWN;
		}
	}
	count_check(t, ok, error, latency_us);
	if (h->state != old) {
		h->since_ms = h->last_ms;
		t->changed = true;
		log_info("health pool=%s target=%s old=%s new=%s reason=\"%s\"", t->name,
			 t->addr_text, state_name(old), state_name(h->state),
			 ok ? "check passed" : error);
		/* answers must change now: write at the end of this loop iteration */
		event_active(t->pr->flush_ev, EV_TIMEOUT, 0);
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for the next due time; due times advance by whole intervals from a fixed phase, so a
 * pause of the loop never merges the targets' checks into one burst. */
static void wait_due(target_t *t)
{
	uint64_t now = mono_ms();
	while (t->due_ms <= now) {
		t->due_ms += t->check.interval_ms;
	}
	uint64_t ms = t->due_ms - now;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(t->timer, &tv);
}

static void check_timer(evutil_socket_t fd, short what, void *arg)
{
	target_t *t = arg;
	wait_due(t);
	if (t->in_flight) {
		return; /* the previous check has not come back: its timeout is due */
	}
	t->in_flight = true;
	if (t->spec.kind == PROBE_HTTPS && t->pr->ssl == NULL &&
	    (t->pr->ssl = probe_ssl_ctx_new()) == NULL) {
		check_done(t, false, "cannot create a TLS context", 0);
		return;
	}
	if (probe_start(t->pr->base, t->pr->ssl, (struct sockaddr *)&t->sa, t->salen, &t->spec,
			check_done, t) != 0) {
		check_done(t, false, "cannot start a check (out of memory)", 0);
	}
}

/* Point the probe spec's strings at the target's own copy of the check. */
static void set_spec(target_t *t)
{
	static const int kinds[] = { 0, PROBE_TCP, PROBE_HTTP, PROBE_HTTPS };
	t->spec.kind = kinds[t->check.kind];
	t->spec.timeout_ms = t->check.timeout_ms;
	t->spec.path = t->check.path;
	t->spec.host = t->check.host;
	t->spec.status_min = t->check.status_min;
	t->spec.status_max = t->check.status_max;
	t->spec.expect_body = t->check.expect;
	t->spec.insecure = t->check.insecure;
}

/* (Re)start the checks: the first within one interval, spread by the key so that targets
 * are not all checked at once; check_timer then re-arms every interval. */
static void arm(target_t *t)
{
	/* the first check within a second (not a whole interval: checks start at once), its
	 * phase spread by the key so that targets are not all checked together */
	uint64_t h = key_hash(t->key, t->klen);
	uint32_t spread = t->check.interval_ms < 1000 ? t->check.interval_ms : 1000;
	uint32_t ms = (uint32_t)(h % spread);
	t->due_ms = mono_ms() + ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_del(t->timer);
	evtimer_add(t->timer, &tv);
}

static void add_or_update(prober_t *pr, ct_txn_t *txn, const MDB_val *pkey,
			  const ct_pool_view_t *view, const ct_pool_check_t *check, int g, int i)
{
	const uint8_t *addr = view->groups[g].addrs + (size_t)i * view->addr_len;
	uint8_t key[CT_HEALTH_KEY_MAX];
	size_t klen = ct_health_key(key, pkey->mv_data, pkey->mv_size, addr, view->addr_len);
	target_t *t = find_target(pr, key, klen);
	if (t != NULL) {
		t->seen = true;
		if (memcmp(&t->check, check, sizeof(*check)) != 0) {
			t->check = *check;
			set_spec(t);
			arm(t);
		}
		return;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		log_err("prober out of memory");
		return;
	}
	t->pr = pr;
	memcpy(t->key, key, klen);
	t->klen = klen;
	t->pklen = pkey->mv_size;
	t->addr_len = view->addr_len;
	t->check = *check;
	set_spec(t);
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	char text[CT_DNAME_STRLEN];
	if (ct_pool_key_owner(pkey, owner, &type) == CT_EOK) {
		snprintf(t->name, sizeof(t->name), "%s/%s", ct_dname_to_str(owner, text),
			 type == 28 ? "AAAA" : "A");
	}
	if (view->addr_len == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&t->sa;
		in->sin_family = AF_INET;
		in->sin_port = htons(check->port);
		memcpy(&in->sin_addr, addr, 4);
		t->salen = sizeof(*in);
		inet_ntop(AF_INET, addr, t->addr_text, sizeof(t->addr_text));
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->sa;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(check->port);
		memcpy(&in6->sin6_addr, addr, 16);
		t->salen = sizeof(*in6);
		inet_ntop(AF_INET6, addr, t->addr_text, sizeof(t->addr_text));
	}
	/* start from the persisted state (DESIGN: a restart keeps what was learnt) */
	ct_health_get(txn, pkey->mv_data, pkey->mv_size, addr, view->addr_len, &t->h);
	t->timer = evtimer_new(pr->base, check_timer, t);
	t->seen = true;
	snprintf(t->st.pool, sizeof(t->st.pool), "%s", t->name);
	snprintf(t->st.addr, sizeof(t->st.addr), "%s", t->addr_text);
	t->st.state = t->h.state;
	pthread_mutex_lock(&pr->lock);
	t->next = pr->targets;
	pr->targets = t;
	pthread_mutex_unlock(&pr->lock);
	target_t **b = bucket(pr, t->key, t->klen);
	t->hnext = *b;
	*b = t;
	arm(t);
}

/* Read every pool; start checks for new targets, stop those of deleted pools and targets. */
static void scan(prober_t *pr)
{
	ct_txn_t txn;
	ct_txn_begin(pr->store, &txn, false);
	if (txn.ret != CT_EOK) {
		log_err("prober cannot read the database reason=\"%s\"", ct_strerror(txn.ret));
		return;
	}
	/* what this snapshot holds (mdb_env_info may already report a later commit) */
	pr->last_txnid = mdb_txn_id(txn.txn);
	for (target_t *t = pr->targets; t != NULL; t = t->next) {
		t->seen = false;
	}
	MDB_val k, v;
	for (bool f = ct_txn_seek(&txn, pr->store->pools, NULL, 0, &k, &v); f;
	     f = ct_txn_next(&txn, pr->store->pools, &k, &v)) {
		ct_pool_view_t view;
		ct_pool_check_t check;
		if (ct_pool_view_parse(v.mv_data, v.mv_size, &view) != CT_EOK ||
		    ct_pool_check_parse(&view, &check) != CT_EOK) {
			continue;
		}
		if (check.kind == CT_CHECK_NONE) {
			continue;
		}
		for (int g = 0; g < view.ngroups; g++) {
			for (int i = 0; i < view.groups[g].ntargets; i++) {
				add_or_update(pr, &txn, &k, &view, &check, g, i);
			}
		}
	}
	ct_txn_abort(&txn);
	/* targets not seen any more: stop checking them at once */
	for (target_t **tp = &pr->targets; *tp != NULL;) {
		target_t *t = *tp;
		if (t->seen) {
			tp = &t->next;
			continue;
		}
		pthread_mutex_lock(&pr->lock);
		*tp = t->next;
		pthread_mutex_unlock(&pr->lock);
		unindex(pr, t);
		event_del(t->timer);
		if (t->in_flight) {
			t->removed = true; /* freed when its check returns */
		} else {
			free_target(t);
		}
	}
}

/* Is the target still in its pool as the transaction sees it? */
static bool target_exists(ct_txn_t *txn, const target_t *t)
{
	MDB_val v;
	ct_pool_view_t view;
	if (!ct_txn_get(txn, txn->store->pools, t->key, t->pklen, &v) ||
	    ct_pool_view_parse(v.mv_data, v.mv_size, &view) != CT_EOK) {
		return false;
	}
	for (int g = 0; g < view.ngroups; g++) {
		for (int i = 0; i < view.groups[g].ntargets; i++) {
			if (memcmp(view.groups[g].addrs + (size_t)i * view.addr_len, t->key + t->pklen,
				   t->addr_len) == 0) {
				return true;
			}
		}
	}
	return false;
}

/* Write state changes now, and every target's results at most every RESULTS_MS. */
static void flush(prober_t *pr, bool all)
{
	uint64_t now = now_ms();
	bool results = all || now - pr->last_results_ms >= RESULTS_MS;
	bool any = false;
	for (target_t *t = pr->targets; t != NULL && !any; t = t->next) {
		any = t->changed || (results && t->dirty);
	}
	if (!any) {
		return;
	}
	ct_txn_t txn;
	ct_txn_begin(pr->store, &txn, true);
	size_t our_id = txn.txn != NULL ? mdb_txn_id(txn.txn) : 0;
	for (target_t *t = pr->targets; t != NULL && txn.ret == CT_EOK; t = t->next) {
		if (!t->changed && !(results && t->dirty)) {
			continue;
		}
		/* keep what the operator set (drain) from the record as it is now */
		ct_health_t cur;
		const uint8_t *addr = t->key + t->pklen;
		if (!target_exists(&txn, t)) {
			continue; /* deleted since the last scan: write no orphan record */
		}
		ct_health_get(&txn, t->key, t->pklen, addr, t->addr_len, &cur);
		t->h.drained = cur.drained;
		ct_health_put(&txn, t->key, t->pklen, addr, t->addr_len, &t->h);
	}
	int ret = ct_txn_commit(&txn);
	if (ret != CT_EOK) {
		log_err("prober cannot write health reason=\"%s\"", ct_strerror(ret));
		return; /* kept in memory: tried again at the next flush */
	}
	for (target_t *t = pr->targets; t != NULL; t = t->next) {
		if (t->changed || results) {
			t->changed = false;
			t->dirty = false;
		}
	}
	if (results) {
		pr->last_results_ms = now;
	}
	/* Our own commit moved the txnid: skip the rescan for it, but only when nothing else
	 * was committed since the last scan (write txns are serial: ours is last seen + 1). */
	if (pr->last_txnid + 1 == our_id) {
		pr->last_txnid = our_id;
	}
}

static void scan_cb(evutil_socket_t fd, short what, void *arg)
{
	prober_t *pr = arg;
	MDB_envinfo info;
	ct_store_info(pr->store, &info, NULL);
	if (info.me_last_txnid != pr->last_txnid) {
		scan(pr); /* sets last_txnid to the snapshot it read */
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	flush(arg, false);
}

/* Does this shift need a write: a step due, or its gate failing (paused ones too)? */
static bool shift_needs_tick(ct_txn_t *txn, const MDB_val *k, const MDB_val *v, uint64_t now,
			     ct_shift_t *s, ct_pool_t *pool)
{
	if (ct_shift_parse(v, s) != CT_EOK || !ct_shift_active(s)) {
		return false;
	}
	if (s->state == CT_SHIFT_RUNNING && now >= s->next_ms) {
		return true;
	}
	MDB_val pv;
	if (!ct_txn_get(txn, txn->store->pools, k->mv_data, k->mv_size, &pv) ||
	    ct_pool_decode(pv.mv_data, pv.mv_size, pool) != CT_EOK) {
		return true; /* the pool is gone: the tick ends the shift */
	}
	int g = ct_pool_group_find(pool, s->group);
	return g < 0 || ct_shift_healthy(txn, k->mv_data, k->mv_size, pool, g, NULL, 0) <
				s->min_healthy;
}

/* Run the shifts: each step or rollback is one write transaction (ct_shift_tick). */
static void sched_cb(evutil_socket_t fd, short what, void *arg)
{
	prober_t *pr = arg;
	uint64_t now = now_ms();
	uint8_t keys[16][CT_RR_KEY_MAXLEN];
	size_t lens[16];
	int n = 0;
	ct_shift_t *s = pr->shift;
	ct_pool_t *pool = pr->pool;
	ct_txn_t txn;
	ct_txn_begin(pr->store, &txn, false);
	MDB_val k, v;
	for (bool f = ct_txn_seek(&txn, pr->store->schedules, NULL, 0, &k, &v); f && n < 16;
	     f = ct_txn_next(&txn, pr->store->schedules, &k, &v)) {
		if (k.mv_size <= CT_RR_KEY_MAXLEN && shift_needs_tick(&txn, &k, &v, now, s, pool)) {
			memcpy(keys[n], k.mv_data, k.mv_size);
			lens[n++] = k.mv_size;
		}
	}
	ct_txn_abort(&txn);
	for (int i = 0; i < n; i++) {
		char log[300];
		ct_txn_begin(pr->store, &txn, true);
		bool wrote = ct_shift_tick(&txn, keys[i], lens[i], now, log, sizeof(log));
		int ret = wrote ? ct_txn_commit(&txn) : (ct_txn_abort(&txn), CT_EOK);
		uint8_t owner[CT_DNAME_MAXLEN];
		uint16_t type = 0;
		char name[CT_DNAME_STRLEN] = "?";
		MDB_val key = { lens[i], keys[i] };
		if (ct_pool_key_owner(&key, owner, &type) == CT_EOK) {
			ct_dname_to_str(owner, name);
		}
		if (ret != CT_EOK) {
			log_err("shift pool=%s/%s failed reason=\"%s\"", name, type == 28 ? "AAAA" : "A",
				ct_strerror(ret));
		} else if (log[0] != '\0') {
			log_info("shift pool=%s/%s event=\"%s\"", name, type == 28 ? "AAAA" : "A",
				 log);
		}
	}
}

prober_t *prober_new(ct_store_t *store, char *err, size_t errlen)
{
	prober_t *pr = calloc(1, sizeof(*pr));
	if (pr == NULL) {
		snprintf(err, errlen, "prober: out of memory");
		return NULL;
	}
	pr->store = store;
	pthread_mutex_init(&pr->lock, NULL);
	pr->base = event_base_new();
	/* the TLS context comes with the first HTTPS check: loading the system's CA certificates
	 * costs ~30 ms of CPU and 4 MiB, which a server without HTTPS checks need not pay */
	pr->shift = malloc(sizeof(*pr->shift));
	pr->pool = malloc(sizeof(*pr->pool));
	if (pr->base == NULL || pr->shift == NULL || pr->pool == NULL) {
		snprintf(err, errlen, "prober: cannot create its event loop");
		prober_free(pr);
		return NULL;
	}
	struct timeval scan_tv = { 0, SCAN_MS * 1000 }, flush_tv = { 0, FLUSH_MS * 1000 };
	pr->scan_ev = event_new(pr->base, -1, EV_PERSIST, scan_cb, pr);
	pr->flush_ev = event_new(pr->base, -1, EV_PERSIST, flush_cb, pr);
	struct timeval sched_tv = { 0, SCHED_MS * 1000 };
	pr->sched_ev = event_new(pr->base, -1, EV_PERSIST, sched_cb, pr);
	event_add(pr->scan_ev, &scan_tv);
	event_add(pr->flush_ev, &flush_tv);
	event_add(pr->sched_ev, &sched_tv);
	return pr;
}

static void *prober_main(void *arg)
{
	prober_t *pr = arg;
	event_base_dispatch(pr->base);
	return NULL;
}

int prober_start(prober_t *pr)
{
	MDB_envinfo info;
	ct_store_info(pr->store, &info, NULL);
	pr->last_txnid = info.me_last_txnid;
	pr->last_results_ms = now_ms();
	scan(pr); /* every target's checks start now, not on the first query */
	if (pthread_create(&pr->thread, NULL, prober_main, pr) != 0) {
		return -1;
	}
	pr->running = true;
	return 0;
}

void prober_stop(prober_t *pr)
{
	if (!pr->running) {
		return;
	}
	event_base_loopbreak(pr->base);
	pthread_join(pr->thread, NULL);
	pr->running = false;
	flush(pr, true);
}

void prober_free(prober_t *pr)
{
	if (pr == NULL) {
		return;
	}
	/* the checks still running, also of removed targets (freed by their callback), hold events
	 * and buffers of the base, which event_base_free() would leave behind */
	if (pr->base != NULL) {
		pr->stopping = true;
		probe_cancel_all(pr->base);
	}
	while (pr->targets != NULL) {
		target_t *t = pr->targets;
		pr->targets = t->next;
		free_target(t);
	}
	if (pr->scan_ev != NULL) {
		event_free(pr->scan_ev);
	}
	if (pr->flush_ev != NULL) {
		event_free(pr->flush_ev);
	}
	if (pr->sched_ev != NULL) {
		event_free(pr->sched_ev);
	}
	if (pr->base != NULL) {
		/* a freed bufferevent lives on until its deferred callbacks have run (event_base_free
		 * drops them), and the loop may have stopped before them: run them; nothing else is
		 * left to run */
		event_base_loop(pr->base, EVLOOP_NONBLOCK);
		event_base_free(pr->base);
	}
	if (pr->ssl != NULL) {
		SSL_CTX_free(pr->ssl);
	}
	free(pr->shift);
	free(pr->pool);
	pthread_mutex_destroy(&pr->lock);
	free(pr);
}
