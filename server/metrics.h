/* SPDX-License-Identifier: MIT */
/* cutoverd's counters and state as Prometheus metrics, and the fail-open watcher. */
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdint.h>

#include "net.h"
#include "prober.h"
#include "cutover/pool.h"

#ifndef CUTOVER_VERSION
#define CUTOVER_VERSION "0.1.0" /* cutoverd's version (cutover_build_info, /status) */
#endif

/* What the metrics are read from; owned by main, outliving every reader. */
typedef struct {
	ct_store_t *store;
	worker_t *workers; /* every query thread: UDP per listen address and TCP, per --threads */
	int nworkers;
	int threads;       /* --threads */
	prober_t *prober;
	uint64_t start_ms;      /* Unix time of the start, ms */
	uint64_t start_mono_ms; /* CLOCK_MONOTONIC at the start, ms */
} metrics_src_t;

/* Milliseconds on CLOCK_REALTIME (wall) or CLOCK_MONOTONIC. */
uint64_t metrics_now_ms(void);
uint64_t metrics_mono_ms(void);

/*
 * Append the Prometheus text exposition (format 0.0.4) to out: counters summed over the
 * workers, then pools, targets, shifts, zones and the database from one read transaction.
 * Runs on the HTTP thread; never blocks the query workers. Returns 0, or -1 when the database
 * could not be read (what could be written is still there).
 */
int metrics_write(const metrics_src_t *src, struct evbuffer *out);

/* Pool answers summed over the workers, one entry per (pool, group); for metrics and logs. */
typedef struct {
	uint8_t key[CT_RR_KEY_MAXLEN]; /* the pool's pools-db key */
	size_t klen;
	char group[CT_POOL_NAMELEN + 1];
	uint64_t answers, previews, fail_open;
} metrics_pool_t;

/* The sums, sorted by pool key then group, in a malloc'ed array (*out; caller frees); their
 * number, or -1 when out of memory. */
int metrics_pool_answers(const metrics_src_t *src, metrics_pool_t **out);

/* Every interval_s seconds on base, log one line per pool that answered fail-open since the
 * last look (pool, answers). Returns the watcher (free with metrics_watch_free), or NULL. */
typedef struct metrics_watch metrics_watch_t;
metrics_watch_t *metrics_watch_new(const metrics_src_t *src, struct event_base *base,
                                   int interval_s);
void metrics_watch_free(metrics_watch_t *mw);
