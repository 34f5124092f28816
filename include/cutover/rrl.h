/* SPDX-License-Identifier: MIT */
/* Response Rate Limiting (RRL) for UDP answers: token buckets per client prefix, response
 * class and name, in one fixed table shared by the query workers, and the slip reply. */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cutover/answer.h"

#define CT_RRL_MAX_RATE  1000000  /* responses per second: the credit fits 32 bits */
#define CT_RRL_MAX_SLIP  10
#define CT_RRL_MAX_TABLE (1 << 24) /* buckets */
#define CT_RRL_DEF_TABLE 262144    /* 6 MiB */

/* The settings; rate 0 is off. */
typedef struct {
	unsigned rate;        /* responses per second per bucket, and the burst allowed at once */
	unsigned slip;        /* every slip-th limited response goes out truncated; 0 never */
	unsigned ipv4_prefix; /* client prefixes a bucket covers: /24 and /56 by default */
	unsigned ipv6_prefix;
	unsigned table_size;  /* buckets */
} ct_rrl_conf_t;

/*
 * Classes of responses, each limited on its own (as BIND, Knot and NSD do): positive answers,
 * NODATA and referrals, and ANY and large answers are counted per name and type, so a busy
 * resolver asking for many names is not limited by their sum; NXDOMAIN and errors are
 * counted per client prefix alone, so random names cannot dodge the limit.
 */
enum {
	CT_RRL_POSITIVE = 0,
	CT_RRL_EMPTY,
	CT_RRL_NXDOMAIN,
	CT_RRL_ERROR,
	CT_RRL_ANY,
	CT_RRL_LARGE,
	CT_RRL_CLASSES
};

/* A bucket: written by any worker with relaxed atomics; a lost race costs one response's
 * accuracy, never a wrong packet. */
typedef struct {
	_Atomic uint64_t key;   /* hash of prefix, class and name; 0: free */
	_Atomic uint64_t state; /* credit in thousandths of a response << 32 | ms clock */
	_Atomic uint32_t limited; /* limited responses since it was last full, for slip */
} ct_rrl_bucket_t;

/* The table, one per daemon: allocated at start, nothing per query. */
typedef struct {
	ct_rrl_conf_t conf;
	uint64_t seed; /* keys the hash, so bucket places cannot be aimed at */
	ct_rrl_bucket_t *buckets;
} ct_rrl_t;

/* A worker's counters (single writer, read by /metrics) and its log rate limit. */
typedef struct {
	ct_counter_t limited[CT_RRL_CLASSES]; /* responses over the limit, dropped or slipped */
	ct_counter_t slipped;                 /* of those, sent truncated */
	ct_counter_t evicted; /* buckets taken over while in use: the table is too small */
	long log_last;
} ct_rrl_stats_t;

/* Allocate the table for conf (rate > 0); CT_EOK, CT_EINVAL or CT_ENOMEM. */
int ct_rrl_init(ct_rrl_t *rrl, const ct_rrl_conf_t *conf);
void ct_rrl_deinit(ct_rrl_t *rrl);

/*
 * The decision for the UDP response resp[0..len) about to go to src, at now_ms (any
 * millisecond clock that only moves forward; it may wrap): len when it may go, 0 when it is
 * dropped, or the shorter length of the slip reply written over resp (the header and question
 * with TC set, the OPT record kept) that tells a real client to retry over TCP (RFC 7766).
 * Thread-safe; never allocates.
 */
size_t ct_rrl_apply(ct_rrl_t *rrl, ct_rrl_stats_t *st, const struct sockaddr *src, uint8_t *resp,
                    size_t len, uint32_t now_ms);

/* The millisecond clock for ct_rrl_apply (CLOCK_MONOTONIC_COARSE: no system call). */
uint32_t ct_rrl_clock(void);

/* Name of a class ("positive", "empty", "nxdomain", "error", "any", "large"); static. */
const char *ct_rrl_class_name(int cls);
