/* SPDX-License-Identifier: MIT */
/* Error texts and the translation of LMDB codes into ours. */
#include "cutover/errcode.h"

#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ct_strerror(int code)
{
	switch (code) {
	case CT_EOK:
		return "success";
	case CT_EMALF:
		return "malformed data";
	case CT_ESPACE:
		return "not enough space";
	case CT_ENOZONE:
		return "no such zone";
	case CT_EDBFULL:
		return "database full; raise the map size (--map-size)";
	case CT_EDBVER:
		return "database schema version is not supported by this build";
	case CT_EDBCORRUPT:
		return "database content is corrupt";
	case CT_ENODB:
		return "database does not exist";
	case CT_EDB:
		return "database error";
	case CT_EZONE:
		return "invalid zone";
	case CT_ENOTFOUND:
		return "not found";
	default:
		if (code < 0 && code > CT_ERROR_BASE) {
			return strerror(-code);
		}
		return "unknown error";
	}
}

int ct_err_from_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return CT_EOK;
	case MDB_NOTFOUND:
		return CT_ENOTFOUND;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_PAGE_FULL:
		return CT_EDBFULL;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		return CT_EDBVER;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return CT_EDBCORRUPT;
	case MDB_BAD_VALSIZE:
		return CT_EINVAL;
	default:
		if (rc > 0 && rc < 1000) {
			return -rc; /* an errno */
		}
		return CT_EDB;
	}
}

int ct_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}
