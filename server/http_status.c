/* SPDX-License-Identifier: MIT */
/* /status: zones, pools with their targets' health, shifts and recent history as one JSON
 * document, read in one LMDB read transaction and built by the same code as cutoverctl's
 * --json output (cutover/pooljson.h, cutover/rolloutjson.h), so the keys are the same. */
#include "http.h"
#include "cutover/errcode.h"
#include "cutover/history.h"
#include "cutover/pooljson.h"
#include "cutover/pooltext.h"
#include "cutover/rollout.h"
#include "cutover/rolloutjson.h"

#include <stdlib.h>
#include <string.h>

#define STATUS_HISTORY 20 /* recent history entries in /status */

/* Set key to a new reference; a NULL value (out of memory) makes the whole object fail. */
static bool set(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static bool push(json_t *array, json_t *value)
{
	return value != NULL && json_array_append_new(array, value) == 0;
}

static json_t *name_json(const uint8_t *name)
{
	char text[CT_DNAME_STRLEN];
	return json_string(ct_dname_to_str(name, text));
}

/* A time as ISO 8601 UTC, or null for 0 (never). */
static json_t *time_json(uint64_t ms)
{
	char text[CT_POOLTEXT_TIMELEN];
	return ms == 0 ? json_null() : json_string(ct_pooltext_time(ms, text));
}

/* What a walk over the pools or schedules needs: large, so allocated once per document. */
typedef struct {
	ct_txn_t *txn;
	ct_pool_t pool;
	ct_poolhealth_t health;
	ct_rollout_t shift;
	uint64_t now;
} walk_t;

/* A pool as `cutoverctl status --json` gives it: health, what it answers, its active shift. */
static json_t *pool_json(walk_t *w, const MDB_val *key)
{
	if (ct_poolhealth_read(w->txn, key->mv_data, key->mv_size, &w->pool, &w->health) !=
	    CT_EOK) {
		return NULL;
	}
	int ret = ct_rollout_load(w->txn, key->mv_data, key->mv_size, &w->shift);
	bool shifting = ret == CT_EOK && ct_shift_active(&w->shift.shift);
	json_t *o = ret == CT_EOK || ret == CT_ENOTFOUND
			    ? ct_pooljson_status(key, &w->pool, &w->health)
			    : NULL;
	if (o != NULL &&
	    !set(o, "shift", shifting ? ct_rolloutjson_shift(&w->shift, w->now) : json_null())) {
		json_decref(o);
		o = NULL;
	}
	ct_rollout_deinit(&w->shift);
	return o;
}

static bool add_pools(walk_t *w, json_t *pools)
{
	bool good = true;
	MDB_val k, v;
	for (bool found = ct_txn_seek(w->txn, w->txn->store->pools, NULL, 0, &k, &v);
	     good && found; found = ct_txn_next(w->txn, w->txn->store->pools, &k, &v)) {
		if (ct_pool_decode(v.mv_data, v.mv_size, &w->pool) != CT_EOK) {
			continue; /* cutoverctl refuses to write such a value; show the others */
		}
		good = push(pools, pool_json(w, &k));
	}
	return good;
}

/* Every shift the schedules hold, running or ended, as `cutoverctl shift status --json`. */
static bool add_shifts(walk_t *w, json_t *shifts)
{
	bool good = true;
	uint8_t key[CT_RR_KEY_MAXLEN];
	MDB_val k, v;
	/* ct_rollout_load reads other databases: remember where the walk is by key */
	for (bool found = ct_txn_seek(w->txn, w->txn->store->schedules, NULL, 0, &k, &v);
	     good && found; found = ct_txn_next(w->txn, w->txn->store->schedules, &k, &v)) {
		if (k.mv_size > sizeof(key)) {
			continue;
		}
		size_t klen = k.mv_size;
		memcpy(key, k.mv_data, klen);
		int ret = ct_rollout_load(w->txn, key, klen, &w->shift);
		good = ret == CT_ENOTFOUND || (ret == CT_EOK && push(shifts, ct_rolloutjson_shift(&w->shift, w->now)));
		ct_rollout_deinit(&w->shift);
		/* back to where the walk was: the next call continues after key */
		ct_txn_seek(w->txn, w->txn->store->schedules, key, klen, &k, &v);
	}
	return good;
}

static bool add_zones(ct_txn_t *txn, json_t *zones)
{
	bool good = true;
	MDB_val k, v;
	for (bool found = ct_txn_seek(txn, txn->store->zones, NULL, 0, &k, &v); good && found;
	     found = ct_txn_next(txn, txn->store->zones, &k, &v)) {
		ct_zone_t zone;
		if (ct_zone_parse(&v, &zone) != CT_EOK) {
			continue;
		}
		json_t *o = json_object();
		good = o != NULL && set(o, "name", name_json(zone.apex)) &&
		       set(o, "serial", json_integer(zone.serial));
		good = good ? push(zones, o) : (json_decref(o), false);
	}
	return good;
}

typedef struct {
	json_t *entries;
	int left;
	bool good;
} history_walk_t;

/* The newest entries as `cutoverctl history --json` gives them, without before and after
 * (whole pools: the summary says what changed). */
static bool history_one(const ct_history_t *h, void *arg)
{
	history_walk_t *hw = arg;
	json_t *e = ct_pooljson_history(h);
	if (e != NULL) {
		json_object_del(e, "before");
		json_object_del(e, "after");
		hw->good = push(hw->entries, e);
	}
	return hw->good && --hw->left > 0; /* an entry that does not decode is left out */
}

static bool add_history(ct_txn_t *txn, json_t *entries)
{
	history_walk_t hw = { .entries = entries, .left = STATUS_HISTORY, .good = true };
	ct_history_foreach(txn, NULL, 0, history_one, &hw);
	return hw.good;
}

static json_t *daemon_json(const metrics_src_t *src, uint64_t now)
{
	json_t *o = json_object();
	bool good = o != NULL && set(o, "version", json_string(CUTOVER_VERSION)) &&
		    set(o, "now", time_json(now)) && set(o, "now_ms", json_integer((json_int_t)now)) &&
		    set(o, "started", time_json(src->start_ms)) &&
		    set(o, "started_ms", json_integer((json_int_t)src->start_ms)) &&
		    set(o, "uptime_seconds",
			json_integer((json_int_t)((metrics_mono_ms() - src->start_mono_ms) / 1000))) &&
		    set(o, "threads", json_integer(src->threads));
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *http_status_doc(const metrics_src_t *src, const char **why)
{
	uint64_t now = metrics_now_ms();
	json_t *doc = json_object(), *zones = json_array(), *pools = json_array(),
	       *shifts = json_array(), *history = json_array();
	walk_t *w = malloc(sizeof(*w));
	ct_txn_t txn;
	bool good = w != NULL && doc != NULL && zones != NULL && pools != NULL && shifts != NULL &&
		    history != NULL && set(doc, "cutoverd", daemon_json(src, now));
	ct_txn_begin(src->store, &txn, false);
	if (good) {
		w->txn = &txn;
		w->now = now;
		good = txn.ret == CT_EOK && add_zones(&txn, zones) && add_pools(w, pools) &&
		       add_shifts(w, shifts) && add_history(&txn, history);
	}
	if (txn.ret != CT_EOK) {
		*why = "cannot read the database";
		good = false;
	}
	ct_txn_abort(&txn);
	free(w);
	/* set_new takes each array even when it fails: no leak whichever way this goes */
	good = set(doc, "zones", zones) && good;
	good = set(doc, "pools", pools) && good;
	good = set(doc, "shifts", shifts) && good;
	good = set(doc, "history", history) && good;
	if (!good) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
