/* SPDX-License-Identifier: MIT */
/* cutoverctl: shifts as people read them (plans, progress, the status block). */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "cutover/rollout.h"

/* A wait in a short human form ("0.4s", "12.3s", "4m05s", "2h10m") into out; returns out. */
#define CT_ROLLOUTTEXT_WAITLEN 24
char *ct_rollouttext_wait(uint64_t ms, char *out);

/* The plan: "linear +10 % every 30s (10 steps)", "canary 5 %, then 100 % after 10m",
 * "steps 5 25 50 100, every 1m" into out (len bytes); returns out. */
char *ct_rollouttext_plan(const ct_shift_t *s, char *out, size_t len);

/*
 * One line for the status of a pool and the commands' reports (no newline); now: Unix ms.
 * Active: "running at step 3 of 10 (green 30 %); next: step 4 (green 40 %) at
 * 2026-11-27T10:01:30Z, in 12.3s" ("paused at ...; next: step 4 (green 40 %) 7.0s after a
 * resume"). Ended: the reason, with the step unless it says it ("rolled back: 198.51.100.10
 * down: connection refused (at step 2 of 4, green 50 %)").
 */
void ct_rollouttext_progress(FILE *out, const ct_rollout_t *r, uint64_t now);

/* The block 'shift status' prints for one shift: plan, state, next step, gate, the steps
 * applied with their times, actors and weights. */
void ct_rollouttext_print(FILE *out, const ct_rollout_t *r, uint64_t now);
