/* SPDX-License-Identifier: MIT */
/* Shifts as JSON (jansson only; never hand-built strings). */
#include "cutover/rolloutjson.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"

#include <string.h>

/* Set key to a new reference; a NULL value (out of memory) makes the object fail. */
static bool set(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *time_json(uint64_t ms)
{
	char when[CT_POOLTEXT_TIMELEN];
	return json_string(ct_pooltext_time(ms, when));
}

static json_t *ms_json(uint64_t ms)
{
	return json_integer((json_int_t)ms);
}

static json_t *steps_json(const ct_shift_t *s)
{
	json_t *a = json_array();
	for (int i = 0; a != NULL && i < s->nsteps; i++) {
		if (json_array_append_new(a, json_integer(s->steps[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *weights_json(const ct_rollout_t *r)
{
	if (!r->has_pool) {
		return json_null();
	}
	json_t *o = json_object();
	for (int g = 0; o != NULL && g < r->pool.ngroups; g++) {
		if (!set(o, r->pool.groups[g].name, json_integer(r->pool.groups[g].weight))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *entry_json(const ct_rollout_step_t *e)
{
	json_t *o = json_object();
	bool good =
	    o != NULL && set(o, "seq", json_integer((json_int_t)e->seq)) &&
	    set(o, "time", time_json(e->time_ms)) && set(o, "time_ms", ms_json(e->time_ms)) &&
	    set(o, "actor", json_string(e->actor)) && set(o, "action", json_string(e->action)) &&
	    set(o, "step", e->step ? json_integer(e->step) : json_null()) &&
	    set(o, "percent", e->step ? json_integer(e->percent) : json_null()) &&
	    set(o, "summary", json_string(e->summary != NULL ? e->summary : ""));
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *history_json(const ct_rollout_t *r)
{
	json_t *a = json_array();
	for (int i = 0; a != NULL && i < r->nlog; i++) {
		if (json_array_append_new(a, entry_json(&r->log[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *ct_rolloutjson_shift(const ct_rollout_t *r, uint64_t now)
{
	const ct_shift_t *s = &r->shift;
	char name[CT_DNAME_STRLEN], zone[CT_DNAME_STRLEN], state[16];
	uint8_t apex[CT_DNAME_MAXLEN];
	MDB_val key = { r->klen, (void *)r->key };
	if (ct_pool_key_zone(&key, apex) != CT_EOK) {
		return NULL;
	}
	snprintf(state, sizeof(state), "%s", ct_rollout_state_name(s->state));
	for (char *p = state; *p != '\0'; p++) {
		*p = *p == ' ' ? '_' : *p; /* "rolled_back": one word, for scripts */
	}
	bool running = s->state == CT_SHIFT_RUNNING && s->done < s->nsteps;
	bool paused = s->state == CT_SHIFT_PAUSED;
	bool active = ct_shift_active(s);
	json_t *o = json_object();
	bool good =
	    o != NULL && set(o, "name", json_string(ct_dname_to_str(r->owner, name))) &&
	    set(o, "zone", json_string(ct_dname_to_str(apex, zone))) &&
	    set(o, "type", json_string(ct_pooltext_type_name(r->type))) &&
	    set(o, "group", json_string(s->group)) &&
	    set(o, "kind", json_string(ct_rollout_kind_name(s->kind))) &&
	    set(o, "state", json_string(state)) && set(o, "step", json_integer(s->done)) &&
	    set(o, "nsteps", json_integer(s->nsteps)) &&
	    set(o, "percent", json_integer(ct_rollout_percent(s))) &&
	    set(o, "steps", steps_json(s)) && set(o, "every_ms", json_integer(s->every_ms)) &&
	    set(o, "next_time", running ? time_json(s->next_ms) : json_null()) &&
	    set(o, "next_ms", running ? ms_json(s->next_ms) : json_null()) &&
	    set(o, "next_in_ms",
	        running ? ms_json(s->next_ms > now ? s->next_ms - now : 0) : json_null()) &&
	    set(o, "paused_left_ms", paused ? ms_json(s->paused_left_ms) : json_null()) &&
	    set(o, "min_healthy", json_integer(s->min_healthy)) &&
	    set(o, "healthy", r->healthy >= 0 ? json_integer(r->healthy) : json_null()) &&
	    set(o, "rollback_on",
	        json_string(s->rollback_on == CT_ROLLBACK_ON_NONE ? "none" : "unhealthy")) &&
	    set(o, "actor", json_string(s->actor)) && set(o, "started", time_json(s->started_ms)) &&
	    set(o, "started_ms", ms_json(s->started_ms)) &&
	    set(o, "ended", active ? json_null() : time_json(s->ended_ms)) &&
	    set(o, "ended_ms", active ? json_null() : ms_json(s->ended_ms)) &&
	    set(o, "reason", active ? json_null() : json_string(s->reason)) &&
	    set(o, "weights", weights_json(r)) && set(o, "history", history_json(r));
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}
