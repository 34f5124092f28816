/* SPDX-License-Identifier: MIT */
/* cutoverd's health prober: one thread, one event_base, non-blocking TCP/HTTP(S) checks. */
#pragma once

#include <event2/event.h>
#include <netinet/in.h>
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

/*
 * End every check still running on base, as failed: each callback runs now. Call before
 * event_base_free(base), which frees none of a check's events or buffers.
 */
void probe_cancel_all(struct event_base *base);

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

/* Failed checks by kind, for metrics. */
enum {
	PROBE_ERR_TIMEOUT,
	PROBE_ERR_REFUSED,
	PROBE_ERR_CONNECT, /* other connect or socket errors */
	PROBE_ERR_TLS,
	PROBE_ERR_HTTP_STATUS,   /* status outside the accepted range */
	PROBE_ERR_HTTP_BODY,     /* the expected text is missing */
	PROBE_ERR_HTTP_PROTOCOL, /* empty or not an HTTP response */
	PROBE_ERR_RESOURCES,     /* the check could not start */
	PROBE_ERR_KINDS
};
/* "timeout", "refused", … (static). */
const char *prober_error_kind_name(int kind);

/* Upper bounds of the check latency histogram buckets, in microseconds (then +Inf). */
#define PROBER_LATENCY_BUCKETS 12
extern const uint32_t prober_latency_bounds_us[PROBER_LATENCY_BUCKETS];

/* What the prober knows of one target, copied out under its lock. */
typedef struct {
	char pool[CT_DNAME_STRLEN + 8]; /* "api.app.example./A" */
	char addr[INET6_ADDRSTRLEN];
	uint8_t state; /* CT_HEALTH_* as the prober last judged it */
	uint64_t checks, failures;
	uint64_t latency_count[PROBER_LATENCY_BUCKETS + 1]; /* passing checks; not cumulative */
	uint64_t latency_sum_us;
} prober_target_stats_t;

/*
 * Read-only, from any thread: call cb for every target being checked (the list is locked
 * during the walk: cb must be quick and must not call back into the prober), and copy the
 * failed checks by kind since start into errors (PROBE_ERR_KINDS entries).
 */
void prober_stats(prober_t *pr, void (*cb)(const prober_target_stats_t *t, void *arg), void *arg,
                  uint64_t *errors);
