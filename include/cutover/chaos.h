/* SPDX-License-Identifier: MIT */
/* CHAOS class identity queries (id.server, version.bind and their aliases), opt-in. */
#pragma once

#include <stdbool.h>

#include "cutover/query.h"
#include "cutover/wire.h"

#define CT_CHAOS_TEXT_MAX 255 /* one TXT character-string */

/* What CH TXT queries are told; an empty text means REFUSED, as for any other name. */
typedef struct {
	char identity[CT_CHAOS_TEXT_MAX + 1]; /* id.server, hostname.bind */
	char version[CT_CHAOS_TEXT_MAX + 1];  /* version.server, version.bind */
} ct_chaos_t;

/*
 * For a CH TXT question of q: append the answer (a TXT record, class CH, TTL 0, owner pointing
 * at the question) to w and return true, when the name is one of those above and its text is
 * set. False, with w untouched, otherwise (the caller refuses the query).
 */
bool ct_chaos_put(const ct_chaos_t *c, const ct_query_t *q, ct_wire_t *w);
