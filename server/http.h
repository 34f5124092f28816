/* SPDX-License-Identifier: MIT */
/* cutoverd's read-only HTTP endpoint (evhttp): /metrics, /status and the status page. */
#pragma once

#include <event2/event.h>
#include <jansson.h>

#include "metrics.h"
#include "net.h"

typedef struct http http_t;

/*
 * Bind addr now (in the main thread, before privileges are dropped) and serve it on base,
 * reading what src points at. NULL with a message in err when the address cannot be bound.
 */
http_t *http_new(struct event_base *base, const net_addr_t *addr, const metrics_src_t *src,
                 char *err, size_t errlen);
void http_free(http_t *h);

/* The /status document (new reference), or NULL with the reason in *why (static text). */
json_t *http_status_doc(const metrics_src_t *src, const char **why);

/* The status page (server/http_page.html, built in): NUL-terminated. */
extern const char http_page_html[];
