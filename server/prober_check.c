/* SPDX-License-Identifier: MIT */
/* One health check: a non-blocking TCP connect, or an HTTP(S) GET judged by status and body. */
#include "prober.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBE_MAX_RESPONSE (64 * 1024) /* judge on what arrived by then */

typedef struct probe {
	struct bufferevent *bev;
	struct event *timer;
	probe_spec_t spec;
	probe_done_t done;
	void *arg;
	struct timespec start;
	char target[64];  /* address text, for the Host header and TLS names */
	SSL_CTX *ssl_ctx;
	bool tls;         /* HTTPS: TLS runs over the connected socket */
	bool finished;
	struct probe *cancel_next; /* probe_cancel_all's list */
} probe_t;

static uint32_t elapsed_us(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t us = (now.tv_sec - start->tv_sec) * 1000000LL + (now.tv_nsec - start->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint32_t)us;
}

static void probe_finish(probe_t *p, bool ok, const char *error)
{
	if (p->finished) {
		return;
	}
	p->finished = true;
	uint32_t us = elapsed_us(&p->start);
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
	}
	event_free(p->timer);
	probe_done_t done = p->done;
	void *arg = p->arg;
	free(p);
	done(arg, ok, error, us);
}

/* Judge an HTTP response: status line, status range, optional body substring. */
static void judge_http(probe_t *p)
{
	struct evbuffer *in = bufferevent_get_input(p->bev);
	size_t len = evbuffer_get_length(in);
	const char *resp = (const char *)evbuffer_pullup(in, -1);
	char error[160];
	if (len < 12 || resp == NULL || strncmp(resp, "HTTP/1.", 7) != 0) {
		probe_finish(p, false, len == 0 ? "empty HTTP response" : "not an HTTP response");
		return;
	}
	int status = 0;
	for (int i = 9; i < 12; i++) {
		if (resp[i] < '0' || resp[i] > '9') {
			probe_finish(p, false, "malformed HTTP status line");
			return;
		}
		status = status * 10 + (resp[i] - '0');
	}
	if (status < p->spec.status_min || status > p->spec.status_max) {
		snprintf(error, sizeof(error), "HTTP status %d, expected %u-%u", status,
			 p->spec.status_min, p->spec.status_max);
		probe_finish(p, false, error);
		return;
	}
	if (p->spec.expect_body != NULL && p->spec.expect_body[0] != '\0') {
		const char *body = memmem(resp, len, "\r\n\r\n", 4);
		size_t blen = body ? len - (size_t)(body + 4 - resp) : 0;
		if (body == NULL ||
		    memmem(body + 4, blen, p->spec.expect_body, strlen(p->spec.expect_body)) == NULL) {
			snprintf(error, sizeof(error), "body lacks \"%.60s\"", p->spec.expect_body);
			probe_finish(p, false, error);
			return;
		}
	}
	probe_finish(p, true, NULL);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	probe_t *p = arg;
	if (evbuffer_get_length(bufferevent_get_input(bev)) >= PROBE_MAX_RESPONSE) {
		judge_http(p);
	}
}

static SSL *new_ssl(SSL_CTX *ctx, probe_t *p)
{
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		return NULL;
	}
	const char *host = p->spec.host && p->spec.host[0] ? p->spec.host : NULL;
	if (host != NULL) {
		SSL_set_tlsext_host_name(ssl, host); /* SNI (RFC 6066 3) */
	}
	if (p->spec.insecure) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
		if (host != NULL) {
			X509_VERIFY_PARAM_set1_host(param, host, 0);
		} else {
			X509_VERIFY_PARAM_set1_ip_asc(param, p->target);
		}
	}
	return ssl;
}

/* Why a TLS check failed: certificate, TLS alert, or the socket error underneath. */
static const char *tls_error(probe_t *p, int sock_err, char *buf, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(p->bev); /* pops the queue: once */
	SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (verify != X509_V_OK) {
		snprintf(buf, len, "TLS: certificate: %s", X509_verify_cert_error_string(verify));
	} else if (sock_err != 0 && (e == 0 || ERR_GET_LIB(e) == ERR_LIB_SYS)) {
		snprintf(buf, len, "%s", evutil_socket_error_to_string(sock_err));
	} else if (e != 0) {
		char reason[120];
		ERR_error_string_n(e, reason, sizeof(reason));
		snprintf(buf, len, "TLS: %s", reason);
	} else {
		snprintf(buf, len, "TLS handshake failed");
	}
	return buf;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	probe_t *p = arg;
	char error[200];
	if (what & BEV_EVENT_CONNECTED) {
		if (p->spec.kind == PROBE_TCP) {
			probe_finish(p, true, NULL);
			return;
		}
		if (p->spec.kind == PROBE_HTTPS && !p->tls) {
			/* TCP is up: run TLS over it; CONNECTED comes again after the handshake */
			SSL *ssl = p->ssl_ctx ? new_ssl(p->ssl_ctx, p) : NULL;
			struct bufferevent *tls =
			    ssl ? bufferevent_openssl_filter_new(
				      bufferevent_get_base(bev), bev, ssl, BUFFEREVENT_SSL_CONNECTING,
				      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)
				: NULL;
			if (tls == NULL) {
				if (ssl != NULL) {
					SSL_free(ssl);
				}
				probe_finish(p, false, "cannot start TLS");
				return;
			}
			p->bev = tls;
			p->tls = true;
			bufferevent_setcb(tls, read_cb, NULL, event_cb, p);
			bufferevent_enable(tls, EV_READ | EV_WRITE);
			return;
		}
		const char *path = p->spec.path && p->spec.path[0] ? p->spec.path : "/";
		const char *host = p->spec.host && p->spec.host[0] ? p->spec.host : p->target;
		evbuffer_add_printf(bufferevent_get_output(bev),
				    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cutoverd-prober\r\n"
				    "Accept: */*\r\nConnection: close\r\n\r\n",
				    path, host);
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		judge_http(p); /* Connection: close: the response is complete */
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();
		if (p->tls) {
			probe_finish(p, false, tls_error(p, err, error, sizeof(error)));
		} else {
			snprintf(error, sizeof(error), "%s", evutil_socket_error_to_string(err));
			probe_finish(p, false, error);
		}
	}
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	probe_t *p = arg;
	char error[64];
	snprintf(error, sizeof(error), "timeout after %u ms", p->spec.timeout_ms);
	probe_finish(p, false, error);
}

/* Deliver a failure found before the check could start, from the loop rather than inline. */
static void start_failed_cb(evutil_socket_t fd, short what, void *arg)
{
	probe_finish(arg, false, "cannot start the check (out of resources)");
}

int probe_start(struct event_base *base, SSL_CTX *ssl_ctx, const struct sockaddr *addr,
		socklen_t addrlen, const probe_spec_t *spec, probe_done_t done, void *arg)
{
	probe_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return -1;
	}
	p->spec = *spec;
	p->done = done;
	p->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	if (addr->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, p->target,
			  sizeof(p->target));
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, p->target,
			  sizeof(p->target));
	}
	p->timer = evtimer_new(base, timeout_cb, p);
	if (p->timer == NULL) {
		free(p);
		return -1;
	}
	p->ssl_ctx = ssl_ctx;
	/* deferred callbacks: none runs inside bufferevent_socket_connect() */
	p->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	struct timeval tv = { spec->timeout_ms / 1000, (spec->timeout_ms % 1000) * 1000 };
	if (p->bev == NULL) {
		event_assign(p->timer, base, -1, 0, start_failed_cb, p);
		event_active(p->timer, EV_TIMEOUT, 0);
		return 0;
	}
	bufferevent_setcb(p->bev, read_cb, NULL, event_cb, p);
	evtimer_add(p->timer, &tv);
	/* On failure the error event is already scheduled; the timer is the backstop. */
	bufferevent_socket_connect(p->bev, (struct sockaddr *)addr, (int)addrlen);
	return 0;
}

/* A running check is found by its timer, which every one has, added or active, until it ends. */
static int collect_probe(const struct event_base *base, const struct event *ev, void *arg)
{
	event_callback_fn cb = event_get_callback(ev);
	if (cb == timeout_cb || cb == start_failed_cb) {
		probe_t *p = event_get_callback_arg(ev);
		p->cancel_next = *(probe_t **)arg;
		*(probe_t **)arg = p;
	}
	return 0;
}

void probe_cancel_all(struct event_base *base)
{
	probe_t *list = NULL;
	/* collect first: events may not be freed while the base is walked */
	event_base_foreach_event(base, collect_probe, &list);
	while (list != NULL) {
		probe_t *p = list;
		list = p->cancel_next;
		probe_finish(p, false, "cutoverd is stopping");
	}
}

SSL_CTX *probe_ssl_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		return NULL;
	}
	SSL_CTX_set_default_verify_paths(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}
