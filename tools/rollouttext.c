/* SPDX-License-Identifier: MIT */
/* cutoverctl: the text forms of shifts (plans, progress lines, the shift status block). */
#include "rollouttext.h"
#include "cutover/checktext.h"
#include "cutover/pooltext.h"

#include <string.h>

/* A step due this long ago (cutoverd looks every 100 ms) means nobody runs the schedule. */
#define OVERDUE_MS 1000

char *ct_rollouttext_wait(uint64_t ms, char *out)
{
	if (ms < 60000) {
		snprintf(out, CT_ROLLOUTTEXT_WAITLEN, "%llu.%llus", (unsigned long long)(ms / 1000),
		         (unsigned long long)(ms % 1000 / 100));
	} else if (ms < 3600000) {
		snprintf(out, CT_ROLLOUTTEXT_WAITLEN, "%llum%02llus",
		         (unsigned long long)(ms / 60000), (unsigned long long)(ms % 60000 / 1000));
	} else {
		snprintf(out, CT_ROLLOUTTEXT_WAITLEN, "%lluh%02llum",
		         (unsigned long long)(ms / 3600000),
		         (unsigned long long)(ms % 3600000 / 60000));
	}
	return out;
}

char *ct_rollouttext_plan(const ct_shift_t *s, char *out, size_t len)
{
	char every[CT_CHECKTEXT_DURLEN];
	ct_checktext_duration_str(s->every_ms, every);
	if (s->kind == CT_SHIFT_CANARY && s->nsteps == 2) {
		snprintf(out, len, "canary %u %%, then %u %% after %s", s->steps[0], s->steps[1],
		         every);
	} else if (s->kind == CT_SHIFT_LINEAR) {
		snprintf(out, len, "linear +%u %% every %s (%u step%s)", s->steps[0], every,
		         s->nsteps, s->nsteps == 1 ? "" : "s");
	} else {
		size_t n = (size_t)snprintf(out, len, "steps");
		for (int i = 0; i < s->nsteps && n < len; i++) {
			n += (size_t)snprintf(out + n, len - n, "%s%u", i ? "," : " ", s->steps[i]);
		}
		if (n < len) {
			snprintf(out + n, len - n, " %%, every %s", every);
		}
	}
	return out;
}

/* "step 4 (green 40 %)" of the step after the last one applied. */
static void next_step(FILE *out, const ct_shift_t *s)
{
	fprintf(out, "step %u (%s %u %%)", s->done + 1, s->group, s->steps[s->done]);
}

void ct_rollouttext_progress(FILE *out, const ct_rollout_t *r, uint64_t now)
{
	const ct_shift_t *s = &r->shift;
	char when[CT_POOLTEXT_TIMELEN], wait[CT_ROLLOUTTEXT_WAITLEN];
	if (!ct_shift_active(s)) {
		/* the reasons of aborts by operators already say the step */
		fputs(s->reason[0] != '\0' ? s->reason : ct_rollout_state_name(s->state), out);
		if (s->state != CT_SHIFT_DONE && strstr(s->reason, " step ") == NULL) {
			fprintf(out, " (at step %u of %u, %s %u %%)", s->done, s->nsteps, s->group,
			        ct_rollout_percent(s));
		}
		return;
	}
	fprintf(out, "%s at step %u of %u (%s %u %%)", ct_rollout_state_name(s->state), s->done,
	        s->nsteps, s->group, ct_rollout_percent(s));
	if (s->done >= s->nsteps) {
		return;
	}
	fputs("; next: ", out);
	next_step(out, s);
	if (s->state == CT_SHIFT_PAUSED) {
		fprintf(out, " %s after a resume", ct_rollouttext_wait(s->paused_left_ms, wait));
		return;
	}
	fprintf(out, " at %s", ct_pooltext_time(s->next_ms, when));
	if (s->next_ms > now) {
		fprintf(out, ", in %s", ct_rollouttext_wait(s->next_ms - now, wait));
	} else if (now - s->next_ms > OVERDUE_MS) {
		fprintf(out, ", due %s ago: is cutoverd running?",
		        ct_rollouttext_wait(now - s->next_ms, wait));
	} else {
		fputs(", due now", out);
	}
}

/* "  label     " before each line of the block. */
static void field(FILE *out, const char *label)
{
	fprintf(out, "  %-9s ", label);
}

void ct_rollouttext_print(FILE *out, const ct_rollout_t *r, uint64_t now)
{
	const ct_shift_t *s = &r->shift;
	char label[CT_POOLTEXT_LABELLEN], when[CT_POOLTEXT_TIMELEN], text[600];
	fprintf(out, "%s  shift to %s: %s\n", ct_pooltext_label(r->owner, r->type, label), s->group,
	        ct_rollout_state_name(s->state));
	field(out, "plan");
	fprintf(out, "%s\n", ct_rollouttext_plan(s, text, sizeof(text)));
	field(out, "progress");
	ct_rollouttext_progress(out, r, now);
	fputc('\n', out);
	field(out, "weights");
	if (r->has_pool) {
		ct_pooltext_weights(out, &r->pool);
		fputc('\n', out);
	} else {
		fputs("- (the pool is gone)\n", out);
	}
	field(out, "gate");
	fprintf(out, "%s needs %u healthy target%s, ", s->group, s->min_healthy,
	        s->min_healthy == 1 ? "" : "s");
	if (!r->has_pool) {
		fputs("but the pool is gone", out);
	} else if (r->healthy < 0) {
		fprintf(out, "but the pool has no group %s", s->group);
	} else {
		fprintf(out, "has %d%s%s%s", r->healthy, r->why[0] ? " (" : "", r->why,
		        r->why[0] ? ")" : "");
	}
	fprintf(out, "; rollback on %s\n",
	        s->rollback_on == CT_ROLLBACK_ON_NONE ? "none (hold)" : "unhealthy");
	field(out, "started");
	fprintf(out, "%s by %s\n", ct_pooltext_time(s->started_ms, when), s->actor);
	if (!ct_shift_active(s)) {
		field(out, "ended");
		fprintf(out, "%s\n", ct_pooltext_time(s->ended_ms, when));
	}
	int aw = 5, cw = 6;
	for (int i = 0; i < r->nlog; i++) {
		int a = (int)strlen(r->log[i].actor), c = (int)strlen(r->log[i].action) - 6;
		aw = a > aw ? a : aw;
		cw = c > cw ? c : cw;
	}
	for (int i = 0; i < r->nlog; i++) {
		const ct_rollout_step_t *e = &r->log[i];
		field(out, i == 0 ? "history" : "");
		fprintf(out, "%-20s  %-*s  %-*s  %s\n", ct_pooltext_time(e->time_ms, when), aw,
		        e->actor, cw, e->action + 6, e->summary != NULL ? e->summary : "");
	}
}
