/* SPDX-License-Identifier: MIT */
/* cutoverd's health prober: one thread, one event_base, non-blocking TCP/HTTP(S) checks. */
#pragma once

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cutover/store.h"

enum { PROBE_TCP = 1, PROBE_HTTP = 2, PROBE_HTTPS = 3 };

/* What one check does; strings point into storage the caller keeps alive during the check. */
typedef struct {
	int kind;                /* PROBE_* */
	uint32_t timeout_ms;
	const char *path;        /* HTTP(S): request path, "/" when empty */
	const char *host;        /* HTTP(S): Host header and TLS name; NULL: the address */
	uint16_t status_min, status_max; /* HTTP(S): accepted status range */
	const char *expect_body; /* HTTP(S): substring the body must hold; NULL: none */
	bool insecure;           /* HTTPS: skip certificate verification */
} probe_spec_t;

/* Called once per check, on the prober's thread; error is NULL on success. */
typedef void (*probe_done_t)(void *arg, bool ok, const char *error, uint32_t latency_us);

/*
 * Start one check of addr (with port) on base. ssl_ctx is needed for HTTPS (may be NULL
 * otherwise). The callback always runs exactly once, never from inside this call.
 */
int probe_start(struct event_base *base, SSL_CTX *ssl_ctx, const struct sockaddr *addr,
		socklen_t addrlen, const probe_spec_t *spec, probe_done_t done, void *arg);

/* A client TLS context that verifies peers against the system's CA store. */
SSL_CTX *probe_ssl_ctx_new(void);

/* The prober thread: checks every target of every pool that has a check. */
typedef struct prober prober_t;

/* Create (reads nothing yet); NULL on failure with a message in err. */
prober_t *prober_new(ct_store_t *store, char *err, size_t errlen);
/* Load persisted states, start checking at once, run on its own thread. */
int prober_start(prober_t *pr);
/* Stop the thread and write what is pending. */
void prober_stop(prober_t *pr);
void prober_free(prober_t *pr);
