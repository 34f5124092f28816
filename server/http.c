/* SPDX-License-Identifier: MIT */
/* The HTTP endpoint: a listening socket handed to evhttp on the main thread's event_base;
 * GET and HEAD only, nothing it serves changes any state. */
#include "http.h"
#include "cutover/log.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http {
	struct evhttp *http;
	const metrics_src_t *src;
};

static void set_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
                  struct evbuffer *body)
{
	set_headers(req, type);
	evhttp_send_reply(req, code, reason, body);
	log_debug("http request path=%s status=%d bytes=%zu", evhttp_request_get_uri(req), code,
	          body != NULL ? evbuffer_get_length(body) : 0);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();
	if (body != NULL) {
		evbuffer_add_printf(body, "%s\n", text);
	}
	reply(req, code, reason, "text/plain; charset=utf-8", body);
	if (body != NULL) {
		evbuffer_free(body);
	}
}

static int add_json(const char *buf, size_t size, void *arg)
{
	return evbuffer_add(arg, buf, size);
}

static void serve_status(http_t *h, struct evhttp_request *req, struct evbuffer *body)
{
	const char *why = "out of memory";
	json_t *doc = http_status_doc(h->src, &why);
	if (doc == NULL || json_dump_callback(doc, add_json, body,
	                                      JSON_INDENT(1) | JSON_PRESERVE_ORDER |
	                                          JSON_REAL_PRECISION(10)) != 0) {
		json_decref(doc);
		reply_text(req, 503, "Service Unavailable", why);
		return;
	}
	json_decref(doc);
	evbuffer_add(body, "\n", 1);
	reply(req, 200, "OK", "application/json", body);
}

static void handle(struct evhttp_request *req, void *arg)
{
	http_t *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *body = evbuffer_new();
	if (path == NULL || body == NULL) {
		reply_text(req, 400, "Bad Request", "bad request");
	} else if (strcmp(path, "/metrics") == 0) {
		if (metrics_write(h->src, body) == 0) {
			reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
		} else {
			reply_text(req, 503, "Service Unavailable", "cannot read the database");
		}
	} else if (strcmp(path, "/status") == 0) {
		serve_status(h, req, body);
	} else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		/* self-contained: inline script and style, data only from /status */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Security-Policy",
		                  "default-src 'none'; script-src 'unsafe-inline'; "
		                  "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
		evbuffer_add_reference(body, http_page_html, strlen(http_page_html), NULL, NULL);
		reply(req, 200, "OK", "text/html; charset=utf-8", body);
	} else {
		reply_text(req, 404, "Not Found", "not found: try /, /status or /metrics");
	}
	if (body != NULL) {
		evbuffer_free(body);
	}
}

http_t *http_new(struct event_base *base, const net_addr_t *addr, const metrics_src_t *src,
                 char *err, size_t errlen)
{
	http_t *h = calloc(1, sizeof(*h));
	char why[300];
	int fd = -1;
	if (h == NULL || (h->http = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "http %s: out of memory", addr->text);
		goto fail;
	}
	h->src = src;
	/* no SO_REUSEPORT: a second daemon on the address must fail, not share it */
	fd = net_socket_bind(addr, SOCK_STREAM, false, why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "http %s", why);
		goto fail;
	}
	if (evhttp_accept_socket_with_handle(h->http, fd) == NULL) {
		snprintf(err, errlen, "http %s: cannot accept connections", addr->text);
		close(fd);
		goto fail;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_gencb(h->http, handle, h);
	return h;
fail:
	http_free(h);
	return NULL;
}

void http_free(http_t *h)
{
	if (h == NULL) {
		return;
	}
	if (h->http != NULL) {
		evhttp_free(h->http); /* closes the bound socket too */
	}
	free(h);
}
