/* SPDX-License-Identifier: MIT */
/* cutoverctl: the pool file, a line-based declarative format holding many pools (read by
 * 'apply', written by 'export-pools' and 'pool show'). The format is described in README.md:
 *
 *   # a comment (anywhere outside quotes, to the end of the line)
 *   pool api.app.example. A          # NAME [A|AAAA]; A when left out
 *       policy  weighted             # weighted | sticky | failover   (default weighted)
 *       ttl     30                   # seconds, 0 to 2147483647       (default 30)
 *       answers all                  # all, or the most addresses per answer (default all)
 *       preview-prefix ""            # preview label = prefix + group (default "")
 *       preview off                  # no preview names               (default on)
 *       check         http:8080/healthz  # tcp:PORT | http:PORT[/PATH] | https:PORT[/PATH]
 *       check-host    api.internal  # Host header and TLS name       (default: the address)
 *       expect-status 200-299       # a status or a range            (default 200-399)
 *       expect-body   "ok"          # a substring of the body        (default: none)
 *       insecure                    # https: no certificate check    (default: verify)
 *       interval      500ms         # ms, s or m; 100ms to 60m       (default 1s)
 *       timeout       200ms         # at most the interval           (default 1s or the interval)
 *       rise          2             # passes in a row to come back   (default 2)
 *       fall          3             # failures in a row to go out    (default 3)
 *       all-down      serve-all     # or nodata, when every target is out (default serve-all)
 *       group blue  weight 100  192.0.2.10 192.0.2.11
 *       group green weight 0         # a group without targets is never answered
 *
 * A setting belongs to the last 'pool' line above it; each at most once per pool; groups in
 * their order (it matters for failover). Indentation and spacing are free. The check settings
 * but all-down need a 'check' line; a pool without one has no health check.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cutover/dname.h"
#include "cutover/pool.h"

#define CT_POOLFILE_MAXERRORS 50 /* reported one by one; the rest are only counted */

typedef struct {
	uint8_t owner[CT_DNAME_MAXLEN]; /* wire form, letter case as written */
	int line;                       /* the 'pool' line */
	ct_pool_t pool;
} ct_poolfile_pool_t;

/* Receives each error for people, "FILE:LINE: what is wrong", without a newline. */
typedef void (*ct_poolfile_report_t)(void *ctx, const char *msg);

/* The pools read from one file (caller-owned; _init, _parse, use, _deinit). */
typedef struct {
	ct_poolfile_pool_t *pools; /* in file order; heap, owned */
	size_t count, cap;
	unsigned errors;
	ct_poolfile_report_t report; /* NULL: errors go to stderr */
	void *ctx;
} ct_poolfile_t;

void ct_poolfile_init(ct_poolfile_t *pf, ct_poolfile_report_t report, void *ctx);
void ct_poolfile_deinit(ct_poolfile_t *pf);

/*
 * Read every pool from in (name is the file name shown in messages). Each pool is checked on
 * its own (ct_pool_check) and a name+type may be defined once; whether it fits the database
 * is for ct_pool_put. Reading goes on after an error to report more. Returns CT_EOK,
 * CT_EINVAL (errors reported, pf->errors of them) or CT_ENOMEM.
 */
int ct_poolfile_parse(ct_poolfile_t *pf, FILE *in, const char *name);

/* Write one pool in the format above (canonical spacing, every setting). -EIO on failure. */
int ct_poolfile_write(FILE *out, const uint8_t *owner, const ct_pool_t *pool);
