/* SPDX-License-Identifier: MIT */
/* The JSON documents of the pool commands (--json), built with jansson. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "cutover/poolhealth.h"
#include "cutover/history.h"
#include "cutover/pool.h"

/*
 * The pool stored under key (its pools-db key) as a JSON object (new reference; NULL when out
 * of memory or the key is bad): name, zone, type ("A"/"AAAA"), policy, ttl, answers (0 = all),
 * preview (bool), preview_prefix, check (null, or { kind, port, path, host, status_min,
 * status_max, expect_body, insecure, interval_ms, timeout_ms, rise, fall }, the HTTP settings
 * null for tcp and host and expect_body null when not set), all_down ("serve-all"/"nodata"),
 * and groups: [{ name, weight, share (percent, as ct_pooltext_shares), targets: [addresses],
 * preview_name (null when previews are off) }].
 */
json_t *ct_pooljson_pool(const MDB_val *key, const ct_pool_t *pool);

/*
 * The pool as ct_pooljson_pool makes it, with its health: each group also has healthy (the
 * count of its targets that serve) and health: [{ address, state ("up"/"down"/"unknown"),
 * drained, healthy, since, since_ms, last_check, last_check_ms, last_ok, latency_us, ok_run,
 * fail_run, error }] (times ISO 8601 UTC; null when never), and the pool has answering
 * (ct_poolhealth_mode_name). New reference; NULL when out of memory.
 */
json_t *ct_pooljson_status(const MDB_val *key, const ct_pool_t *pool, const ct_poolhealth_t *ph);

/*
 * A history entry as a JSON object (new reference, NULL when out of memory or when its
 * values cannot be decoded): seq, time (ISO 8601 UTC), time_ms, actor, name, zone, type,
 * action, summary (as ct_pooltext_history_change), before and after (pool objects, or null).
 */
json_t *ct_pooljson_history(const ct_history_t *h);

/* A document {"<key>": []}: returns it (new reference) and the array in *array (borrowed);
 * NULL when out of memory. */
json_t *ct_pooljson_doc(const char *key, json_t **array);

