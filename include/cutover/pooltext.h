/* SPDX-License-Identifier: MIT */
/* Pools as people read and write them (types, policies, addresses, weights,
 * shares, change summaries), shared by the pool commands and the pool file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cutover/history.h"
#include "cutover/pool.h"

#define CT_POOLTEXT_ADDRLEN 46 /* INET6_ADDRSTRLEN */

/* "A" or "AAAA" (any letter case) to CT_TYPE_A/CT_TYPE_AAAA; 0 for anything else. */
uint16_t ct_pooltext_type(const char *text);
/* "A" or "AAAA" (static storage). */
const char *ct_pooltext_type_name(uint16_t type);

/* "weighted", "sticky" or "failover" to CT_POLICY_*; -1 for anything else. */
int ct_pooltext_policy(const char *text);
const char *ct_pooltext_policy_name(uint8_t policy);

/*
 * An address of a pool of this type into out (16 bytes; 4 used for A). On failure a message
 * for people in err that names the text ("'2001:db8::1' is an IPv6 address; an A pool ...").
 */
bool ct_pooltext_addr(uint16_t type, const char *text, uint8_t *out, char *err, size_t errlen);
/* The address in presentation form into out (CT_POOLTEXT_ADDRLEN bytes); returns out. */
char *ct_pooltext_addr_str(uint16_t type, const uint8_t *addr, char *out);

/* A whole number written with digits only, at most max, into *out. */
bool ct_pooltext_uint(const char *text, uint32_t max, uint32_t *out);

/* "blue=100 green=0" on out. */
void ct_pooltext_weights(FILE *out, const ct_pool_t *pool);

/*
 * A one-line summary of a change on out: the weights before -> after ("-" for no pool), then
 * what else changed ("; ttl 30 -> 60", "; green +192.0.2.21 -192.0.2.20", "; +group canary",
 * "; check none -> http:8080/healthz; interval 1s -> 500ms", "; all-down serve-all -> nodata").
 * before or after may be NULL (created, deleted).
 */
void ct_pooltext_change(FILE *out, const ct_pool_t *before, const ct_pool_t *after);

/*
 * The summary of a history entry on out: as ct_pooltext_change, but "pool unchanged (blue=100
 * green=0)" when the entry changed no pool (drain and undrain keep it as it was).
 */
void ct_pooltext_history_change(FILE *out, const ct_history_t *h, const ct_pool_t *before,
                                const ct_pool_t *after);

/*
 * The share of answers, in percent, each group gets from cutoverd while all targets are up
 * (include/cutover/select.h): a group without targets gets none; weighted and sticky split by
 * weight, or equally among the groups with targets when all their weights are 0; failover
 * sends everything to the first group with targets and a weight above 0 (or, when all are 0,
 * the first with targets). share has pool->ngroups entries.
 */
void ct_pooltext_shares(const ct_pool_t *pool, double *share);

/* "api.app.example. A" into out (CT_DNAME_STRLEN + 8 bytes); returns out. */
#define CT_POOLTEXT_LABELLEN (CT_DNAME_STRLEN + 8)
char *ct_pooltext_label(const uint8_t *owner, uint16_t type, char *out);

/* A time in milliseconds since the epoch as ISO 8601 UTC ("2026-11-27T10:00:00Z"). */
#define CT_POOLTEXT_TIMELEN 32
char *ct_pooltext_time(uint64_t time_ms, char *out);
