/* SPDX-License-Identifier: MIT */
/* A shift as JSON (shift status --json, status --json), built with jansson. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "cutover/rollout.h"

/*
 * The shift r as a JSON object (new reference; NULL when out of memory or the key is bad):
 * name, zone, type, group, kind ("canary"/"linear"/"steps"), state ("running", "paused",
 * "done", "aborted", "rolled_back"), step (steps applied), nsteps, percent (the group's
 * percent after the last step applied), steps [percent...], every_ms, next_time and next_ms
 * (the next step, while running; else null), next_in_ms (null unless running; 0 when due),
 * paused_left_ms (while paused; else null), min_healthy, healthy (healthy targets of the
 * group now; null when the pool or the group is gone), rollback_on ("unhealthy"/"none"),
 * actor, started, started_ms, ended and ended_ms (null while active), reason (null while
 * active), weights ({group: weight} of the pool now; null when it is gone), and history:
 * [{seq, time, time_ms, actor, action, step (null for the rollback), percent (null for the
 * rollback), summary}], oldest first. now: Unix ms.
 */
json_t *ct_rolloutjson_shift(const ct_rollout_t *r, uint64_t now);
