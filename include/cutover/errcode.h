/* SPDX-License-Identifier: MIT */
/* Error codes shared by every module: negative errno values, then project codes. */
#pragma once

#include <errno.h>
#include <stddef.h>

enum {
	CT_EOK = 0,
	CT_ENOMEM = -ENOMEM,
	CT_EINVAL = -EINVAL,
	CT_ENOENT = -ENOENT,
	CT_EACCES = -EACCES,
	CT_EEXIST = -EEXIST,
	CT_ERANGE = -ERANGE,

	CT_ERROR_BASE = -1000,
	CT_EMALF,      /* malformed input (packet, name, record) */
	CT_ESPACE,     /* output buffer too small */
	CT_ENOZONE,    /* name is in no zone we hold */
	CT_EDBFULL,    /* LMDB map is full */
	CT_EDBVER,     /* database schema version unknown or newer */
	CT_EDBCORRUPT, /* database content cannot be decoded */
	CT_ENODB,      /* database does not exist */
	CT_EDB,        /* other LMDB failure */
	CT_EZONE,      /* zone content is invalid */
	CT_ENOTFOUND,  /* key not found */
};

/* Human-readable text for a CT_* code or a negative errno; never NULL, static storage. */
const char *ct_strerror(int code);

/* Format a message for people into err (errlen bytes) and return ret: for error paths. */
int ct_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Translate an LMDB return code (MDB_SUCCESS, MDB_NOTFOUND, errno…) into a CT_* code. */
int ct_err_from_mdb(int mdb_rc);
