/* SPDX-License-Identifier: MIT */
/* Pools and history entries as JSON (jansson only; never hand-built strings). */
#include "cutover/pooljson.h"
#include "cutover/checktext.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Set key to a new reference; a NULL value (out of memory) makes the object fail. */
static bool set(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *name_json(const uint8_t *name)
{
	char text[CT_DNAME_STRLEN];
	return json_string(ct_dname_to_str(name, text));
}

static json_t *group_json(const uint8_t *owner, const ct_pool_t *pool, int g, double share)
{
	const ct_pool_group_t *gr = &pool->groups[g];
	char addr[CT_POOLTEXT_ADDRLEN], text[CT_DNAME_STRLEN];
	json_t *o = json_object(), *targets = json_array();
	bool good = o != NULL && targets != NULL;
	for (int t = 0; good && t < gr->ntargets; t++) {
		good = json_array_append_new(targets, json_string(ct_pooltext_addr_str(
		                                          pool->type, gr->targets[t], addr))) == 0;
	}
	json_t *preview = json_null();
	if (good && !(pool->flags & CT_POOL_NO_PREVIEW)) {
		/* one label, "<prefix><group>", in front of the pool's name */
		char pname[CT_DNAME_STRLEN + 2 * CT_POOL_NAMELEN + 2];
		snprintf(pname, sizeof(pname), "%s%s.%s", pool->preview_prefix, gr->name,
		         owner[0] == 0 ? "" : ct_dname_to_str(owner, text));
		preview = json_string(pname);
	}
	good = good && set(o, "name", json_string(gr->name)) &&
	       set(o, "weight", json_integer(gr->weight)) &&
	       set(o, "share", json_real(round(share * 100.0) / 100.0)) &&
	       set(o, "targets", targets) && set(o, "preview_name", preview);
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A text, or null when it is empty. */
static json_t *text_or_null(const char *text)
{
	return text[0] != '\0' ? json_string(text) : json_null();
}

/* The health check: null, or its settings (those of HTTP null for a tcp check). */
static json_t *check_json(const ct_pool_check_t *c)
{
	if (c->kind == CT_CHECK_NONE) {
		return json_null();
	}
	bool http = c->kind != CT_CHECK_TCP;
	json_t *o = json_object();
	bool good = o != NULL && set(o, "kind", json_string(ct_checktext_kind_name(c->kind))) &&
	            set(o, "port", json_integer(c->port)) &&
	            set(o, "path", http ? json_string(c->path[0] ? c->path : "/") : json_null()) &&
	            set(o, "host", http ? text_or_null(c->host) : json_null()) &&
	            set(o, "status_min", http ? json_integer(c->status_min) : json_null()) &&
	            set(o, "status_max", http ? json_integer(c->status_max) : json_null()) &&
	            set(o, "expect_body", http ? text_or_null(c->expect) : json_null()) &&
	            set(o, "insecure", json_boolean(c->kind == CT_CHECK_HTTPS && c->insecure)) &&
	            set(o, "interval_ms", json_integer(c->interval_ms)) &&
	            set(o, "timeout_ms", json_integer(c->timeout_ms)) &&
	            set(o, "rise", json_integer(c->rise)) && set(o, "fall", json_integer(c->fall));
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Pool object with the name and zone of the pools-db key. */
static json_t *pool_json(const uint8_t *owner, const uint8_t *apex, const ct_pool_t *pool)
{
	double share[CT_POOL_MAX_GROUPS];
	json_t *o = json_object(), *groups = json_array();
	ct_pooltext_shares(pool, share);
	bool good = o != NULL && groups != NULL;
	for (int g = 0; good && g < pool->ngroups; g++) {
		good = json_array_append_new(groups, group_json(owner, pool, g, share[g])) == 0;
	}
	good = good && set(o, "name", name_json(owner)) && set(o, "zone", name_json(apex)) &&
	       set(o, "type", json_string(ct_pooltext_type_name(pool->type))) &&
	       set(o, "policy", json_string(ct_pooltext_policy_name(pool->policy))) &&
	       set(o, "ttl", json_integer(pool->ttl)) &&
	       set(o, "answers", json_integer(pool->answers)) &&
	       set(o, "preview", json_boolean(!(pool->flags & CT_POOL_NO_PREVIEW))) &&
	       set(o, "preview_prefix", json_string(pool->preview_prefix)) &&
	       set(o, "check", check_json(&pool->check)) &&
	       set(o, "all_down", json_string(ct_checktext_all_down(pool))) &&
	       set(o, "groups", groups);
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Owner, type and zone apex of a pools-db key. */
static bool split_key(const MDB_val *key, uint8_t *owner, uint16_t *type, uint8_t *apex)
{
	return ct_pool_key_owner(key, owner, type) == CT_EOK &&
	       ct_pool_key_zone(key, apex) == CT_EOK;
}

json_t *ct_pooljson_pool(const MDB_val *key, const ct_pool_t *pool)
{
	uint8_t owner[CT_DNAME_MAXLEN], apex[CT_DNAME_MAXLEN];
	uint16_t type;
	return split_key(key, owner, &type, apex) ? pool_json(owner, apex, pool) : NULL;
}

/* A time in milliseconds as ISO 8601, or null for 0 (never). */
static json_t *time_json(uint64_t ms)
{
	char when[CT_POOLTEXT_TIMELEN];
	return ms != 0 ? json_string(ct_pooltext_time(ms, when)) : json_null();
}

static json_t *target_json(uint16_t type, const uint8_t *addr, const ct_health_t *h)
{
	char text[CT_POOLTEXT_ADDRLEN];
	bool checked = h->last_ms != 0;
	json_t *o = json_object();
	bool good =
	    o != NULL && set(o, "address", json_string(ct_pooltext_addr_str(type, addr, text))) &&
	    set(o, "state", json_string(ct_poolhealth_state_name(h->state))) &&
	    set(o, "drained", json_boolean(h->drained)) &&
	    set(o, "healthy", json_boolean(ct_health_serves(h))) &&
	    set(o, "since", time_json(h->since_ms)) &&
	    set(o, "since_ms", h->since_ms ? json_integer((json_int_t)h->since_ms) : json_null()) &&
	    set(o, "last_check", time_json(h->last_ms)) &&
	    set(o, "last_check_ms", checked ? json_integer((json_int_t)h->last_ms) : json_null()) &&
	    set(o, "last_ok", checked ? json_boolean(h->last_ok) : json_null()) &&
	    set(o, "latency_us", checked ? json_integer(h->latency_us) : json_null()) &&
	    set(o, "ok_run", json_integer(h->ok_run)) &&
	    set(o, "fail_run", json_integer(h->fail_run)) &&
	    set(o, "error", text_or_null(h->error));
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ct_pooljson_status(const MDB_val *key, const ct_pool_t *pool, const ct_poolhealth_t *ph)
{
	json_t *o = ct_pooljson_pool(key, pool);
	json_t *groups = o != NULL ? json_object_get(o, "groups") : NULL;
	bool good = groups != NULL;
	for (int g = 0; good && g < pool->ngroups; g++) {
		json_t *gr = json_array_get(groups, (size_t)g), *targets = json_array();
		good = gr != NULL && targets != NULL;
		for (int t = 0; good && t < pool->groups[g].ntargets; t++) {
			good = json_array_append_new(
			           targets, target_json(pool->type, pool->groups[g].targets[t],
			                                &ph->target[g][t])) == 0;
		}
		if (good && set(gr, "healthy", json_integer(ph->healthy[g]))) {
			good = set(gr, "health", targets); /* it takes targets, even on failure */
		} else {
			good = false;
			json_decref(targets);
		}
	}
	good = good && set(o, "answering", json_string(ct_poolhealth_mode_name(ph->mode)));
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The pool in a history value, decoded into *pool; NULL for an empty value. */
static const ct_pool_t *history_pool(const uint8_t *val, size_t len, ct_pool_t *pool, bool *bad)
{
	if (len == 0) {
		return NULL;
	}
	*bad |= ct_pool_decode(val, len, pool) != CT_EOK;
	return pool;
}

json_t *ct_pooljson_history(const ct_history_t *h)
{
	MDB_val key = { h->object_len, (void *)h->object };
	uint8_t owner[CT_DNAME_MAXLEN], apex[CT_DNAME_MAXLEN];
	uint16_t type;
	char when[CT_POOLTEXT_TIMELEN];
	bool bad = !split_key(&key, owner, &type, apex);
	ct_pool_t *pools = malloc(2 * sizeof(*pools));
	if (pools == NULL || bad) {
		free(pools);
		return NULL;
	}
	const ct_pool_t *before = history_pool(h->before, h->before_len, &pools[0], &bad);
	const ct_pool_t *after = history_pool(h->after, h->after_len, &pools[1], &bad);
	char *summary = NULL;
	size_t slen = 0;
	FILE *s = open_memstream(&summary, &slen);
	if (s != NULL) {
		ct_pooltext_history_change(s, h, before, after);
		fclose(s);
	}
	json_t *o = json_object();
	bool good = !bad && summary != NULL && o != NULL &&
	            set(o, "seq", json_integer((json_int_t)h->seq)) &&
	            set(o, "time", json_string(ct_pooltext_time(h->time_ms, when))) &&
	            set(o, "time_ms", json_integer((json_int_t)h->time_ms)) &&
	            set(o, "actor", json_stringn(h->actor, h->actor_len)) &&
	            set(o, "name", name_json(owner)) && set(o, "zone", name_json(apex)) &&
	            set(o, "type", json_string(ct_pooltext_type_name(type))) &&
	            set(o, "action", json_stringn(h->action, h->action_len)) &&
	            set(o, "summary", json_string(summary)) &&
	            set(o, "before", before ? pool_json(owner, apex, before) : json_null()) &&
	            set(o, "after", after ? pool_json(owner, apex, after) : json_null());
	free(summary);
	free(pools);
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ct_pooljson_doc(const char *key, json_t **array)
{
	json_t *doc = json_object();
	*array = json_array();
	if (doc == NULL || *array == NULL) {
		json_decref(doc);
		json_decref(*array);
		return NULL;
	}
	if (json_object_set_new(doc, key, *array) != 0) { /* it took the array even so */
		json_decref(doc);
		return NULL;
	}
	return doc;
}
