/* SPDX-License-Identifier: MIT */
/* CHAOS class identity queries: a TXT answer from the configured text, or nothing. */
#include "cutover/chaos.h"
#include "cutover/store.h"

#include <string.h>

static const uint8_t id_server[] = "\x02id\x06server";
static const uint8_t hostname_bind[] = "\x08hostname\x04" "bind";
static const uint8_t version_server[] = "\x07version\x06server";
static const uint8_t version_bind[] = "\x07version\x04" "bind";

/* The configured text for the question's name ("" when none). */
static const char *chaos_text(const ct_chaos_t *c, const uint8_t *qname)
{
	if (ct_dname_eq(qname, id_server) || ct_dname_eq(qname, hostname_bind)) {
		return c->identity;
	}
	if (ct_dname_eq(qname, version_server) || ct_dname_eq(qname, version_bind)) {
		return c->version;
	}
	return "";
}

bool ct_chaos_put(const ct_chaos_t *c, const ct_query_t *q, ct_wire_t *w)
{
	if (c == NULL || q->qclass != CT_CLASS_CH || q->qtype != CT_TYPE_TXT) {
		return false;
	}
	const char *text = chaos_text(c, q->qname);
	size_t n = strlen(text);
	if (n == 0 || n > CT_CHAOS_TEXT_MAX || w->len + 2 + 10 + 1 + n > w->cap) {
		return false;
	}
	uint8_t *p = w->buf + w->len;
	ct_put16(p, 0xC000 | CT_WIRE_HDRLEN); /* the owner is the question's name */
	ct_put16(p + 2, CT_TYPE_TXT);
	ct_put16(p + 4, CT_CLASS_CH);
	ct_put32(p + 6, 0); /* not to be cached: it names the server that answered */
	ct_put16(p + 10, (uint16_t)(1 + n));
	p[12] = (uint8_t)n;
	memcpy(p + 13, text, n);
	w->len += 13 + n;
	ct_wire_count_one(w->buf, CT_SEC_ANSWER);
	return true;
}
