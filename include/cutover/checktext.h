/* SPDX-License-Identifier: MIT */
/* A pool's health check settings as people write them (pool set's options and the
 * pool file's lines): durations, check specs, status ranges; parsed, checked and written back. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cutover/pool.h"

/* The settings, in the order the pool file writes them. */
enum {
	CT_CHECKKEY_CHECK,    /* tcp:PORT | http:PORT[/PATH] | https:PORT[/PATH] */
	CT_CHECKKEY_HOST,     /* check-host NAME */
	CT_CHECKKEY_STATUS,   /* expect-status N | N-M */
	CT_CHECKKEY_BODY,     /* expect-body TEXT */
	CT_CHECKKEY_INSECURE, /* insecure (no value) */
	CT_CHECKKEY_INTERVAL, /* interval DURATION */
	CT_CHECKKEY_TIMEOUT,  /* timeout DURATION */
	CT_CHECKKEY_RISE,     /* rise N */
	CT_CHECKKEY_FALL,     /* fall N */
	CT_CHECKKEY_ALLDOWN,  /* all-down serve-all | nodata */
	CT_CHECKKEY_COUNT
};

/* The name of a setting in the pool file ("check-host"); pool set's option is "--" + it. */
const char *ct_checktext_key_name(int key);
/* The setting called name, or -1. */
int ct_checktext_key(const char *name);

/* The settings given for one pool, before they become its check (caller-owned, zeroed). */
typedef struct {
	unsigned given;        /* bits 1u << CT_CHECKKEY_* */
	ct_pool_check_t check; /* the values given (kind, port and path from 'check') */
	bool nodata;           /* all-down nodata */
} ct_checkargs_t;

/*
 * Read the value of setting key (NULL for insecure, which takes none) into a; a later value
 * of the same key replaces an earlier one. On failure a message in err that starts with the
 * value in quotes ("'50ms': at least 100ms ..."), for the caller to put after the key's name.
 */
bool ct_checkargs_set(ct_checkargs_t *a, int key, const char *value, char *err, size_t errlen);

/*
 * Put the settings into pool: its check (the defaults of its kind for what was not given; the
 * timeout defaults to the smaller of 1s and the interval) and the CT_POOL_ALLDOWN_NODATA flag.
 * Without 'check' the pool has none. Returns -1, or the key at fault with a message in err
 * that names the settings as prefix + name ("--timeout 2s is above --interval 1s ...").
 */
int ct_checkargs_apply(const ct_checkargs_t *a, const char *prefix, ct_pool_t *pool, char *err,
                       size_t errlen);

/* A duration: a number (a fraction allowed) and a unit, ms, s or m ("200ms", "1.5s", "2m"). */
bool ct_checktext_duration(const char *text, uint32_t *ms, char *err, size_t errlen);

/* A duration in its shortest exact form ("2m", "1s", "1500ms") into out; returns out. */
#define CT_CHECKTEXT_DURLEN 16
char *ct_checktext_duration_str(uint32_t ms, char *out);

/* "none", "tcp:5432" or "http:8080/healthz" into out (CT_CHECKTEXT_SPECLEN); returns out. */
#define CT_CHECKTEXT_SPECLEN (CT_CHECK_TEXTLEN + 16)
char *ct_checktext_spec(const ct_pool_check_t *check, char *out);

/* "tcp", "http" or "https" (static storage); "none" for CT_CHECK_NONE. */
const char *ct_checktext_kind_name(uint8_t kind);

/* "serve-all" or "nodata": what cutoverd answers when every target of the pool is out. */
const char *ct_checktext_all_down(const ct_pool_t *pool);

/*
 * Each setting of the check and all-down, as the pool file writes it, through line(key,
 * value, arg): every setting of a pool with a check (check-host, expect-body and insecure
 * only when set; the HTTP settings only for http and https), and all-down when the pool has a
 * check or says nodata. value is NULL for insecure; expect-body's value is to be quoted.
 */
void ct_checktext_foreach(const ct_pool_t *pool,
                          void (*line)(int key, const char *value, void *arg), void *arg);

/* "; check none -> http:8080/healthz; interval 1s -> 500ms": what differs between b and a. */
void ct_checktext_diff(FILE *out, const ct_pool_t *b, const ct_pool_t *a);
