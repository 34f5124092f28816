/* SPDX-License-Identifier: MIT */
/* cutoverctl: what the pool commands share (options, the actor, the pools at a name, the
 * transaction and how a change is reported). */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl.h"
#include "cutover/pool.h"

/* The common options a command takes (bits of ct_poolcmd_t.takes); -h/--help always. */
enum { CT_POOLOPT_TYPE = 1, CT_POOLOPT_JSON = 2, CT_POOLOPT_ACTOR = 4 };

typedef struct ct_poolcmd ct_poolcmd_t;

/* One of a command's own options (c: the val of its struct option). Returns -1 to go on,
 * else the exit status (e.g. ct_poolcmd_bad's). */
typedef int (*ct_poolcmd_opt_t)(ct_poolcmd_t *cmd, int c, const char *arg);

/* A command's description and, after ct_poolcmd_parse, its arguments (caller-owned). */
struct ct_poolcmd {
	const ct_ctl_t *ctl;
	const char *name;           /* "pool set": starts every message */
	const char *usage;          /* the --help text */
	unsigned takes;             /* CT_POOLOPT_* */
	const struct option *extra; /* the command's own options (zero-terminated), or NULL */
	ct_poolcmd_opt_t on_opt;    /* called for them */
	void *ctx;                  /* for on_opt */
	int min_ops, max_ops;       /* operands (after the options are taken out) */

	uint16_t type;     /* --type: CT_TYPE_A or CT_TYPE_AAAA; 0 when not given */
	bool json;         /* --json */
	const char *actor; /* --actor, else the global --actor, else the login user */
	char **ops;        /* the operands (points into argv) */
	int nops;
};

/*
 * Parse argv (argv[0] is the command's last word). Returns -1 to go on, or the exit status
 * (0 after --help; 2 with a message and the usage for a bad option or operand count).
 */
int ct_poolcmd_parse(ct_poolcmd_t *cmd, int argc, char **argv);

/* "cutoverctl: <name>: <message>" and the usage on stderr; returns CT_CTL_USAGE. */
int ct_poolcmd_bad(const ct_poolcmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "cutoverctl: <name>: <message>" on stderr. */
void ct_poolcmd_err(const ct_poolcmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Open the database and begin a transaction; first, when name is not NULL and the command has
 * an operand, read the first operand as a domain name into name (CT_DNAME_MAXLEN; a bad one
 * is a usage error). Returns -1 to go on (st and txn open), else the exit status.
 */
int ct_poolcmd_open(ct_poolcmd_t *cmd, uint8_t *name, ct_store_t *st, ct_txn_t *txn, bool rw);

/* ct_poolcmd_parse, then ct_poolcmd_open: the start of most commands. */
int ct_poolcmd_start(ct_poolcmd_t *cmd, int argc, char **argv, uint8_t *name, ct_store_t *st,
                     ct_txn_t *txn, bool rw);

/*
 * End what ct_poolcmd_open started: with ok, commit a write transaction (a failure is
 * explained, "what: database full ..."); without, abort (the command said why). Closes the
 * store. Returns the exit status.
 */
int ct_poolcmd_end(const ct_poolcmd_t *cmd, ct_store_t *st, ct_txn_t *txn, bool ok,
                   const char *what);

/* The pools at one name: A, then AAAA (caller-owned; large, keep it off small stacks). */
typedef struct {
	uint8_t owner[CT_DNAME_MAXLEN];
	int n;
	ct_pool_t pools[2];
	uint8_t keys[2][CT_RR_KEY_MAXLEN]; /* their pools-db keys */
	size_t klen[2];
} ct_poolset_t;

/*
 * Read the pools at owner into set: of cmd->type, or of both types when it is 0. When there
 * is none, or the name is in no zone, says so and returns CT_ENOTFOUND / CT_ENOZONE.
 */
int ct_poolset_load(const ct_poolcmd_t *cmd, ct_txn_t *txn, const uint8_t *owner,
                    ct_poolset_t *set);

/*
 * Store pool as a change by cmd (ct_pool_put with cmd->actor and action, then
 * ct_poolhealth_sync when it changed); on failure prints "<name>: <why>" and returns the error
 * (the transaction then commits nothing).
 */
int ct_poolcmd_put(const ct_poolcmd_t *cmd, ct_txn_t *txn, const uint8_t *owner,
                   const ct_pool_t *pool, const char *action, bool *changed);

/* Index of the group called name (any letter case) in pool, or -1 after the message
 * "<pool> has no group 'x'; its groups: blue, green". */
int ct_poolcmd_group(const ct_poolcmd_t *cmd, const uint8_t *owner, const ct_pool_t *pool,
                     const char *name);

/*
 * One line on stdout for a committed change, "api.app.example. A: <verb>: <summary>" (see
 * ct_pooltext_change), or without changed "api.app.example. A: unchanged (blue=100 green=0)".
 * When every weight is now 0 the line says what cutoverd then does.
 */
void ct_poolcmd_report(const uint8_t *owner, uint16_t type, const char *verb,
                       const ct_pool_t *before, const ct_pool_t *after, bool changed);

/* Called by ct_poolcmd_each for every pool: its pools-db key and the pool (valid during the
 * call). Return false to stop. */
typedef bool (*ct_poolcmd_each_t)(const MDB_val *key, const ct_pool_t *pool, void *arg);

/*
 * Every pool in key order (zone, canonical name, A before AAAA); only the zone whose apex is
 * zone when it is not NULL (CT_ENOZONE if there is no such zone). cb must not write. Returns
 * CT_EOK, CT_ENOZONE, CT_ENOMEM, CT_EDBCORRUPT or the transaction's error.
 */
int ct_poolcmd_each(ct_txn_t *txn, const uint8_t *zone, ct_poolcmd_each_t cb, void *arg);

/*
 * Print doc on stdout, indented, keys in insertion order, a newline after it, and release
 * it. doc NULL (out of memory) or a failed write: a message. Returns the exit status.
 */
int ct_pooljson_print(json_t *doc);
