/* SPDX-License-Identifier: MIT */
/* cutoverctl: what every command family shares (global options, the store, messages). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cutover/store.h"

/* Exit statuses: success, a runtime error, a usage error (usage printed on stderr). */
enum { CT_CTL_OK = 0, CT_CTL_FAIL = 1, CT_CTL_USAGE = 2 };

/* The global options, filled in by main before a command runs. */
typedef struct {
	const char *db;    /* --db, else $CUTOVER_DB, else CT_DEFAULT_DB */
	size_t map_size;   /* --map-size in bytes; 0: the store's default */
	const char *actor; /* --actor, or NULL: who is recorded in history */
} ct_ctl_t;

/* Print "cutoverctl: <message>" and a newline on stderr. */
void ct_ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Open the database for a command. create: make it if missing (zone import); otherwise a
 * missing database is refused with a message saying how to create one. Prints why on failure
 * and returns the CT_* code.
 */
int ct_ctl_open(const ct_ctl_t *ctl, ct_store_t *st, bool create, bool read_only);

/* Explain a failed transaction on the database ("zone app.example. not imported: ..."). */
void ct_ctl_txn_err(const ct_store_t *st, int ret, const char *what);

/*
 * Report what getopt_long (run with opterr = 0 and a leading ':' in its optstring) refused:
 * c is what it returned ('?' or ':'); cmd names the command ("zone import") or is NULL.
 */
void ct_ctl_bad_option(const char *cmd, int c, char **argv);

/* True if argv[1] asks for help ("-h", "--help"), for commands without other options. */
bool ct_ctl_wants_help(int argc, char **argv);

/* The 'zone' family: argv[0] is "zone". Returns the exit status. */
int ct_ctl_zone(const ct_ctl_t *ctl, int argc, char **argv);

/*
 * The pool commands (tools/cmd_*.c): argv[0] is the command's name ("pool", "weight", ...).
 * Each returns the exit status.
 */
int ct_ctl_pool(const ct_ctl_t *ctl, int argc, char **argv);         /* pool set|show|list|delete */
int ct_ctl_weight(const ct_ctl_t *ctl, int argc, char **argv);       /* weight */
int ct_ctl_cutover(const ct_ctl_t *ctl, int argc, char **argv);      /* cutover */
int ct_ctl_rollback(const ct_ctl_t *ctl, int argc, char **argv);     /* rollback */
int ct_ctl_status(const ct_ctl_t *ctl, int argc, char **argv);       /* status */
int ct_ctl_history(const ct_ctl_t *ctl, int argc, char **argv);      /* history */
int ct_ctl_apply(const ct_ctl_t *ctl, int argc, char **argv);        /* apply */
int ct_ctl_export_pools(const ct_ctl_t *ctl, int argc, char **argv); /* export-pools */
int ct_ctl_drain(const ct_ctl_t *ctl, int argc, char **argv);        /* drain */
int ct_ctl_undrain(const ct_ctl_t *ctl, int argc, char **argv);      /* undrain */
int ct_ctl_shift(const ct_ctl_t *ctl, int argc, char **argv);        /* shift and its subcommands */
