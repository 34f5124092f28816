/* SPDX-License-Identifier: MIT */
/* The LMDB environment, transactions with a sticky error, and the record/zone value codecs. */
#include "cutover/store.h"
#include "cutover/errcode.h"
#include "cutover/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static _Thread_local char open_error[4400];

const char *ct_store_last_error(void)
{
	return open_error;
}

/* Record "PATH: message" for ct_store_last_error(), close what is open, return ret. */
__attribute__((format(printf, 3, 4))) static int open_fail(ct_store_t *st, int ret,
							    const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(open_error, sizeof(open_error), "%s: ", st->path);
	if (n < 0 || (size_t)n >= sizeof(open_error)) {
		n = 0;
	}
	va_start(ap, fmt);
	vsnprintf(open_error + n, sizeof(open_error) - (size_t)n, fmt, ap);
	va_end(ap);
	if (st->env != NULL) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return ret;
}

/* Whether the main database holds more than our named databases: an environment made by some
 * other program, to be refused rather than adopted by writing our schema into it. */
static bool foreign(MDB_txn *txn)
{
	MDB_dbi main_dbi;
	MDB_stat ms;
	if (mdb_dbi_open(txn, NULL, 0, &main_dbi) != MDB_SUCCESS ||
	    mdb_stat(txn, main_dbi, &ms) != MDB_SUCCESS) {
		return true;
	}
	return ms.ms_entries > CT_STORE_DBS;
}

static int check_schema(ct_store_t *st, MDB_txn *txn, bool rw, bool create)
{
	static const char key[] = "schema";
	MDB_val k = { sizeof(key) - 1, (void *)key }, v;
	int rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		if (rw && foreign(txn)) {
			snprintf(open_error, sizeof(open_error),
				 "%s: not a cutover database (it holds another program's data); "
				 "use another directory",
				 st->path);
			return CT_EDBVER;
		}
		if (!create) {
			snprintf(open_error, sizeof(open_error),
				 "%s: not a cutover database (no schema version); "
				 "create one with 'cutoverctl zone import'",
				 st->path);
			return CT_ENODB;
		}
		if (!rw) {
			return CT_EOK; /* created by a writer that has not committed yet */
		}
		uint8_t buf[5] = { CT_VALUE_VERSION };
		ct_put32(buf + 1, CT_SCHEMA_VERSION);
		v.mv_size = sizeof(buf);
		v.mv_data = buf;
		return ct_err_from_mdb(mdb_put(txn, st->meta, &k, &v, 0));
	}
	if (rc != MDB_SUCCESS) {
		return ct_err_from_mdb(rc);
	}
	if (v.mv_size != 5 || ((uint8_t *)v.mv_data)[0] != CT_VALUE_VERSION) {
		return CT_EDBCORRUPT;
	}
	uint32_t version = ct_get32((uint8_t *)v.mv_data + 1);
	if (version != CT_SCHEMA_VERSION) {
		snprintf(open_error, sizeof(open_error),
			 "%s: database schema version %u, this build reads version %u only; "
			 "use a matching cutover release",
			 st->path, version, CT_SCHEMA_VERSION);
		return CT_EDBVER;
	}
	return CT_EOK;
}

/* Whether data.mdb holds every page its meta page says is in use. */
static bool file_size_ok(ct_store_t *st, off_t *need, off_t *have)
{
	MDB_envinfo info;
	MDB_stat ms;
	mdb_filehandle_t fd;
	struct stat sb;
	if (mdb_env_info(st->env, &info) != MDB_SUCCESS ||
	    mdb_env_stat(st->env, &ms) != MDB_SUCCESS ||
	    mdb_env_get_fd(st->env, &fd) != MDB_SUCCESS || fstat(fd, &sb) != 0) {
		return true; /* nothing to judge by: let LMDB report what it finds */
	}
	*need = (off_t)(info.me_last_pgno + 1) * ms.ms_psize;
	*have = sb.st_size;
	return *have >= *need;
}

int ct_store_open(ct_store_t *st, const char *path, const ct_store_opts_t *opts)
{
	static const ct_store_opts_t defaults = { 0 };
	if (opts == NULL) {
		opts = &defaults;
	}
	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s", path);
	open_error[0] = '\0';

	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || !opts->create) {
			return open_fail(st, errno == ENOENT ? CT_ENODB : -errno,
					 "cannot open database: %s", strerror(errno));
		}
		if (mkdir(path, 0750) != 0) {
			return open_fail(st, -errno, "cannot create database directory: %s",
					 strerror(errno));
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		return open_fail(st, CT_EINVAL, "%s", "not a directory (the database is a directory)");
	} else if (!opts->create) {
		char data[4200];
		snprintf(data, sizeof(data), "%s/data.mdb", path);
		bool missing = stat(data, &sb) != 0;
		if (missing || sb.st_size == 0) {
			return open_fail(st, CT_ENODB, "no database here (%s); "
					 "create one with 'cutoverctl zone import'",
					 missing ? "no data.mdb" : "data.mdb is empty");
		}
	}

	int rc = mdb_env_create(&st->env);
	if (rc == MDB_SUCCESS) {
		rc = mdb_env_set_maxdbs(st->env, CT_STORE_DBS + 1);
	}
	if (rc == MDB_SUCCESS) {
		rc = mdb_env_set_maxreaders(st->env, opts->max_readers ? opts->max_readers : 126);
	}
	if (rc == MDB_SUCCESS && opts->map_size != 0) {
		rc = mdb_env_set_mapsize(st->env, opts->map_size);
	}
	unsigned flags = MDB_NOTLS | (opts->read_only ? MDB_RDONLY : 0);
	if (rc == MDB_SUCCESS) {
		rc = mdb_env_open(st->env, path, flags, 0640);
	}
	/* Without a size LMDB takes the largest any writer had (it records only increases);
	 * keep at least the default. */
	MDB_envinfo info;
	if (rc == MDB_SUCCESS && opts->map_size == 0 &&
	    (rc = mdb_env_info(st->env, &info)) == MDB_SUCCESS &&
	    info.me_mapsize < CT_STORE_DEFAULT_MAPSIZE) {
		rc = mdb_env_set_mapsize(st->env, CT_STORE_DEFAULT_MAPSIZE);
	}
	if (rc != MDB_SUCCESS) {
		return open_fail(st, ct_err_from_mdb(rc), "cannot open database: %s",
				 mdb_strerror(rc));
	}
	/* A data.mdb cut short (a bad copy, a full disk) would be read past its end through the
	 * map: SIGBUS. Refuse it while only the meta pages have been read. */
	off_t need, have;
	if (!file_size_ok(st, &need, &have)) {
		return open_fail(st, CT_EDBCORRUPT,
				 "data.mdb is truncated (%lld bytes, its pages need %lld); "
				 "restore it from a backup",
				 (long long)have, (long long)need);
	}

	bool rw = !opts->read_only;
	MDB_txn *txn;
	rc = mdb_txn_begin(st->env, NULL, rw ? 0 : MDB_RDONLY, &txn);
	if (rc == MDB_READERS_FULL) {
		int dead;
		mdb_reader_check(st->env, &dead);
		rc = mdb_txn_begin(st->env, NULL, rw ? 0 : MDB_RDONLY, &txn);
	}
	if (rc != MDB_SUCCESS) {
		return open_fail(st, ct_err_from_mdb(rc), "cannot read database: %s",
				 mdb_strerror(rc));
	}
	struct {
		const char *name;
		MDB_dbi *dbi;
	} dbs[CT_STORE_DBS] = {
		{ "zones", &st->zones },	 { "rrsets", &st->rrsets },
		{ "pools", &st->pools },	 { "health", &st->health },
		{ "schedules", &st->schedules }, { "history", &st->history },
		{ "meta", &st->meta },
	};
	for (int i = 0; i < CT_STORE_DBS; i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, rw ? MDB_CREATE : 0, dbs[i].dbi);
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return open_fail(st, rc == MDB_NOTFOUND ? CT_EDBVER : ct_err_from_mdb(rc),
					 "not a cutover database (no '%s' database in it: %s)",
					 dbs[i].name, mdb_strerror(rc));
		}
	}
	int ret = check_schema(st, txn, rw, opts->create);
	if (ret != CT_EOK) {
		mdb_txn_abort(txn);
		if (open_error[0] == '\0') {
			snprintf(open_error, sizeof(open_error), "%s: %s", st->path, ct_strerror(ret));
		}
		mdb_env_close(st->env);
		st->env = NULL;
		return ret;
	}
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS) {
		return open_fail(st, ct_err_from_mdb(rc), "cannot initialise database: %s",
				 mdb_strerror(rc));
	}
	pthread_rwlock_init(&st->remap, NULL);
	atomic_init(&st->grow, false);
	return CT_EOK;
}

void ct_store_close(ct_store_t *st)
{
	if (st->env != NULL) {
		mdb_env_close(st->env);
		st->env = NULL;
		pthread_rwlock_destroy(&st->remap);
	}
}

/*
 * Another process (cutoverctl --map-size) grew the database past this process's map: move to
 * the size it recorded. mdb_env_set_mapsize remaps under every live transaction, so it waits
 * for this process's transactions to end (the caller holds none). seen: the size that was too
 * small; when another thread has moved the map since, there is nothing to do.
 */
static int grow_map(ct_store_t *st, size_t seen)
{
	MDB_envinfo info;
	pthread_rwlock_wrlock(&st->remap);
	int rc = mdb_env_info(st->env, &info);
	size_t had = info.me_mapsize;
	if (rc == MDB_SUCCESS && had == seen) {
		rc = mdb_env_set_mapsize(st->env, 0); /* the largest recorded, at least the data */
	}
	if (rc == MDB_SUCCESS && (rc = mdb_env_info(st->env, &info)) == MDB_SUCCESS &&
	    info.me_mapsize < had) {
		rc = mdb_env_set_mapsize(st->env, had); /* never shrink */
	}
	pthread_rwlock_unlock(&st->remap);
	return rc;
}

int ct_store_info(ct_store_t *st, MDB_envinfo *info, MDB_stat *stat)
{
	pthread_rwlock_rdlock(&st->remap);
	int rc = info != NULL ? mdb_env_info(st->env, info) : MDB_SUCCESS;
	if (rc == MDB_SUCCESS && stat != NULL) {
		rc = mdb_env_stat(st->env, stat);
	}
	pthread_rwlock_unlock(&st->remap);
	return rc;
}

/* Hold the remap lock shared; run begin (or renew) on the transaction, again after moving
 * the map when another process grew it; keep the lock only on success. */
static int start_txn(ct_txn_t *txn, int (*start)(ct_txn_t *txn))
{
	ct_store_t *st = txn->store;
	pthread_rwlock_rdlock(&st->remap);
	int rc = start(txn);
	if (rc == MDB_READERS_FULL) {
		int dead;
		mdb_reader_check(st->env, &dead);
		rc = start(txn);
	}
	if (rc == MDB_MAP_RESIZED) {
		MDB_envinfo info;
		mdb_env_info(st->env, &info);
		pthread_rwlock_unlock(&st->remap);
		rc = grow_map(st, info.me_mapsize);
		pthread_rwlock_rdlock(&st->remap);
		if (rc == MDB_SUCCESS) {
			rc = start(txn);
		}
	}
	txn->held = rc == MDB_SUCCESS;
	if (!txn->held) {
		pthread_rwlock_unlock(&st->remap);
	}
	return rc;
}

static void release(ct_txn_t *txn)
{
	if (txn->held) {
		txn->held = false;
		pthread_rwlock_unlock(&txn->store->remap);
	}
}

static int begin(ct_txn_t *txn)
{
	return mdb_txn_begin(txn->store->env, NULL, txn->rw ? 0 : MDB_RDONLY, &txn->txn);
}

static int renew(ct_txn_t *txn)
{
	return mdb_txn_renew(txn->txn);
}

static void txn_fail(ct_txn_t *txn, int mdb_rc)
{
	if (txn->ret == CT_EOK) {
		txn->ret = ct_err_from_mdb(mdb_rc);
	}
	if (mdb_rc == MDB_MAP_FULL) {
		atomic_store(&txn->store->grow, true);
	}
}

void ct_txn_begin(ct_store_t *st, ct_txn_t *txn, bool rw)
{
	memset(txn, 0, sizeof(*txn));
	txn->store = st;
	txn->rw = rw;
	if (rw && atomic_exchange(&st->grow, false)) {
		/* the last write found the map full: cutoverd retries it (health records), and
		 * the operator may have raised the size with cutoverctl since */
		MDB_envinfo info;
		if (ct_store_info(st, &info, NULL) == MDB_SUCCESS) {
			grow_map(st, info.me_mapsize);
		}
	}
	int rc = start_txn(txn, begin);
	if (rc != MDB_SUCCESS) {
		txn->txn = NULL;
		txn_fail(txn, rc);
	}
}

static void close_cursors(ct_txn_t *txn)
{
	for (size_t i = 0; i < sizeof(txn->cursor) / sizeof(txn->cursor[0]); i++) {
		if (txn->cursor[i] != NULL) {
			/* write-txn cursors are freed by LMDB with their transaction */
			if (!txn->rw) {
				mdb_cursor_close(txn->cursor[i]);
			}
			txn->cursor[i] = NULL;
		}
	}
}

int ct_txn_commit(ct_txn_t *txn)
{
	if (txn->txn == NULL) {
		return txn->ret;
	}
	if (txn->ret != CT_EOK) {
		ct_txn_abort(txn);
		return txn->ret;
	}
	close_cursors(txn);
	int rc = mdb_txn_commit(txn->txn);
	txn->txn = NULL;
	release(txn);
	if (rc != MDB_SUCCESS) {
		txn_fail(txn, rc);
	}
	return txn->ret;
}

void ct_txn_abort(ct_txn_t *txn)
{
	if (txn->txn == NULL) {
		return;
	}
	close_cursors(txn);
	mdb_txn_abort(txn->txn);
	txn->txn = NULL;
	release(txn);
}

int ct_reader_init(ct_store_t *st, ct_txn_t *txn)
{
	ct_txn_begin(st, txn, false);
	if (txn->ret != CT_EOK) {
		return txn->ret;
	}
	txn->reader = true;
	ct_reader_reset(txn);
	return CT_EOK;
}

int ct_reader_renew(ct_txn_t *txn)
{
	txn->ret = CT_EOK;
	int rc = start_txn(txn, renew);
	if (rc != MDB_SUCCESS) {
		txn_fail(txn, rc);
		return txn->ret;
	}
	for (size_t i = 0; i < sizeof(txn->cursor) / sizeof(txn->cursor[0]); i++) {
		if (txn->cursor[i] != NULL && mdb_cursor_renew(txn->txn, txn->cursor[i]) != 0) {
			mdb_cursor_close(txn->cursor[i]);
			txn->cursor[i] = NULL;
		}
	}
	return CT_EOK;
}

void ct_reader_reset(ct_txn_t *txn)
{
	mdb_txn_reset(txn->txn);
	release(txn);
}

void ct_reader_deinit(ct_txn_t *txn)
{
	ct_txn_abort(txn);
}

bool ct_txn_get(ct_txn_t *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
	if (txn->ret != CT_EOK) {
		return false;
	}
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(txn->txn, dbi, &k, val);
	if (rc == MDB_SUCCESS) {
		return true;
	}
	if (rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE) {
		txn_fail(txn, rc);
	}
	return false;
}

void ct_txn_put(ct_txn_t *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val,
		size_t vlen)
{
	if (txn->ret != CT_EOK) {
		return;
	}
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(txn->txn, dbi, &k, &v, 0);
	if (rc != MDB_SUCCESS) {
		txn_fail(txn, rc);
	}
}

void ct_txn_del(ct_txn_t *txn, MDB_dbi dbi, const void *key, size_t klen)
{
	if (txn->ret != CT_EOK) {
		return;
	}
	MDB_val k = { klen, (void *)key };
	int rc = mdb_del(txn->txn, dbi, &k, NULL);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		txn_fail(txn, rc);
	}
}

static MDB_cursor *get_cursor(ct_txn_t *txn, MDB_dbi dbi)
{
	if (dbi >= sizeof(txn->cursor) / sizeof(txn->cursor[0])) {
		txn->ret = CT_EINVAL;
		return NULL;
	}
	if (txn->cursor[dbi] == NULL) {
		int rc = mdb_cursor_open(txn->txn, dbi, &txn->cursor[dbi]);
		if (rc != MDB_SUCCESS) {
			txn->cursor[dbi] = NULL;
			txn_fail(txn, rc);
			return NULL;
		}
	}
	return txn->cursor[dbi];
}

static bool cursor_op(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val, MDB_cursor_op op)
{
	if (txn->ret != CT_EOK) {
		return false;
	}
	MDB_cursor *cur = get_cursor(txn, dbi);
	if (cur == NULL) {
		return false;
	}
	int rc = mdb_cursor_get(cur, key, val, op);
	if (rc == MDB_SUCCESS) {
		return true;
	}
	if (rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE) {
		txn_fail(txn, rc);
	}
	return false;
}

bool ct_txn_seek(ct_txn_t *txn, MDB_dbi dbi, const void *from, size_t flen, MDB_val *key,
		 MDB_val *val)
{
	if (flen == 0) {
		return cursor_op(txn, dbi, key, val, MDB_FIRST);
	}
	key->mv_size = flen;
	key->mv_data = (void *)from;
	return cursor_op(txn, dbi, key, val, MDB_SET_RANGE);
}

bool ct_txn_next(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val)
{
	return cursor_op(txn, dbi, key, val, MDB_NEXT);
}

bool ct_txn_last(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val)
{
	return cursor_op(txn, dbi, key, val, MDB_LAST);
}

bool ct_txn_prev(ct_txn_t *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val)
{
	return cursor_op(txn, dbi, key, val, MDB_PREV);
}

void ct_txn_del_prefix(ct_txn_t *txn, MDB_dbi dbi, const void *prefix, size_t plen)
{
	MDB_val k, v;
	bool found = ct_txn_seek(txn, dbi, prefix, plen, &k, &v);
	while (found && ct_key_has_prefix(&k, prefix, plen)) {
		int rc = mdb_cursor_del(txn->cursor[dbi], 0);
		if (rc != MDB_SUCCESS) {
			txn_fail(txn, rc);
			return;
		}
		/* seek again rather than trust the cursor position after a delete */
		found = ct_txn_seek(txn, dbi, prefix, plen, &k, &v);
	}
}

size_t ct_rr_key_node(uint8_t *out, const uint8_t *owner_key, size_t owner_len, size_t apex_len)
{
	memcpy(out, owner_key, apex_len);
	out[apex_len] = 0x00;
	memcpy(out + apex_len + 1, owner_key + apex_len, owner_len - apex_len);
	return owner_len + 1;
}

size_t ct_rr_key(uint8_t *out, const uint8_t *owner_key, size_t owner_len, size_t apex_len,
		 uint16_t type)
{
	size_t n = ct_rr_key_node(out, owner_key, owner_len, apex_len);
	out[n++] = 0x00;
	ct_put16(out + n, type);
	return n + 2;
}

int ct_rr_key_split(const MDB_val *key, uint8_t *owner, size_t *owner_len, size_t *apex_len,
		    uint16_t *type)
{
	const uint8_t *k = key->mv_data;
	size_t n = key->mv_size;
	if (n < 4 || k[n - 3] != 0x00) {
		return CT_EDBCORRUPT;
	}
	/* The apex ends at the first 0x00 that follows a 0x00 label terminator or starts the key. */
	size_t i = 0;
	for (;;) {
		if (i >= n - 3) {
			return CT_EDBCORRUPT;
		}
		if (k[i] == 0x00) {
			break; /* empty label: the apex separator */
		}
		while (i < n - 3 && k[i] != 0x00) {
			i++;
		}
		i++; /* past the label terminator */
	}
	*apex_len = i;
	memcpy(owner, k, i);
	size_t rest = n - 3 - (i + 1);
	memcpy(owner + i, k + i + 1, rest);
	*owner_len = i + rest;
	*type = ct_get16(k + n - 2);
	return CT_EOK;
}

int ct_rrset_parse(const MDB_val *val, ct_rrset_t *rrset)
{
	const uint8_t *v = val->mv_data;
	if (val->mv_size < 7 || v[0] != CT_VALUE_VERSION) {
		return CT_EDBCORRUPT;
	}
	rrset->ttl = ct_get32(v + 1);
	rrset->count = ct_get16(v + 5);
	rrset->rdata = v + 7;
	rrset->len = val->mv_size - 7;
	size_t pos = 0;
	for (uint16_t i = 0; i < rrset->count; i++) {
		if (pos + 2 > rrset->len) {
			return CT_EDBCORRUPT;
		}
		pos += 2 + (size_t)ct_get16(rrset->rdata + pos);
	}
	if (pos != rrset->len) {
		return CT_EDBCORRUPT;
	}
	return CT_EOK;
}

int ct_rrset_builder_init(ct_rrset_builder_t *b, uint32_t ttl)
{
	b->cap = 256;
	b->buf = malloc(b->cap);
	if (b->buf == NULL) {
		return CT_ENOMEM;
	}
	b->buf[0] = CT_VALUE_VERSION;
	ct_put32(b->buf + 1, ttl);
	ct_put16(b->buf + 5, 0);
	b->len = 7;
	return CT_EOK;
}

int ct_rrset_builder_add(ct_rrset_builder_t *b, const uint8_t *rdata, uint16_t rdlen)
{
	uint16_t count = ct_get16(b->buf + 5);
	size_t pos = 7;
	for (uint16_t i = 0; i < count; i++) {
		uint16_t len = ct_get16(b->buf + pos);
		if (len == rdlen && memcmp(b->buf + pos + 2, rdata, rdlen) == 0) {
			return CT_EOK;
		}
		pos += 2 + (size_t)len;
	}
	if (count == UINT16_MAX) {
		return CT_ERANGE;
	}
	if (b->len + 2 + rdlen > b->cap) {
		size_t cap = (b->len + 2 + rdlen) * 2;
		uint8_t *nb = realloc(b->buf, cap);
		if (nb == NULL) {
			return CT_ENOMEM;
		}
		b->buf = nb;
		b->cap = cap;
	}
	ct_put16(b->buf + b->len, rdlen);
	memcpy(b->buf + b->len + 2, rdata, rdlen);
	b->len += 2 + (size_t)rdlen;
	ct_put16(b->buf + 5, (uint16_t)(count + 1));
	return CT_EOK;
}

void ct_rrset_builder_deinit(ct_rrset_builder_t *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

int ct_zone_parse(const MDB_val *val, ct_zone_t *zone)
{
	const uint8_t *v = val->mv_data;
	if (val->mv_size < 10 || v[0] != CT_VALUE_VERSION) {
		return CT_EDBCORRUPT;
	}
	zone->serial = ct_get32(v + 1);
	zone->flags = ct_get32(v + 5);
	size_t nlen = val->mv_size - 9;
	if (ct_dname_check(v + 9, nlen) != (int)nlen) {
		return CT_EDBCORRUPT;
	}
	memcpy(zone->apex, v + 9, nlen);
	return CT_EOK;
}

void ct_zone_put(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len, const ct_zone_t *zone)
{
	uint8_t v[9 + CT_DNAME_MAXLEN];
	size_t nlen = ct_dname_len(zone->apex);
	v[0] = CT_VALUE_VERSION;
	ct_put32(v + 1, zone->serial);
	ct_put32(v + 5, zone->flags);
	memcpy(v + 9, zone->apex, nlen);
	ct_txn_put(txn, txn->store->zones, apex_key, apex_len, v, 9 + nlen);
}

bool ct_zone_find(ct_txn_t *txn, const uint8_t *name_key, size_t name_len, size_t *apex_len,
		  ct_zone_t *zone)
{
	/* Try the name itself, then each ancestor: label boundaries are the 0x00 bytes. */
	size_t len = name_len;
	for (;;) {
		MDB_val v;
		if (ct_txn_get(txn, txn->store->zones, name_key, len, &v)) {
			if (zone != NULL && ct_zone_parse(&v, zone) != CT_EOK) {
				txn->ret = CT_EDBCORRUPT;
				return false;
			}
			*apex_len = len;
			return true;
		}
		if (len == 0 || txn->ret != CT_EOK) {
			return false;
		}
		len--; /* drop this label's terminator, then its bytes */
		while (len > 0 && name_key[len - 1] != 0x00) {
			len--;
		}
	}
}

void ct_zone_bump_serial(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len)
{
	MDB_val v;
	ct_zone_t zone;
	if (!ct_txn_get(txn, txn->store->zones, apex_key, apex_len, &v)) {
		if (txn->ret == CT_EOK) {
			txn->ret = CT_ENOZONE;
		}
		return;
	}
	if (ct_zone_parse(&v, &zone) != CT_EOK) {
		txn->ret = CT_EDBCORRUPT;
		return;
	}
	zone.serial += 1; /* RFC 1982: wraps modulo 2^32 */
	ct_zone_put(txn, apex_key, apex_len, &zone);

	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen = ct_rr_key(key, apex_key, apex_len, apex_len, 6 /* SOA */);
	if (!ct_txn_get(txn, txn->store->rrsets, key, klen, &v)) {
		if (txn->ret == CT_EOK) {
			txn->ret = CT_EDBCORRUPT;
		}
		return;
	}
	/* Copy the value, patch the serial (after MNAME and RNAME), write it back. */
	uint8_t buf[7 + 2 + 2 * CT_DNAME_MAXLEN + 20];
	ct_rrset_t rrset;
	if (v.mv_size > sizeof(buf) || ct_rrset_parse(&v, &rrset) != CT_EOK || rrset.count != 1) {
		txn->ret = CT_EDBCORRUPT;
		return;
	}
	memcpy(buf, v.mv_data, v.mv_size);
	uint8_t *rd = buf + 9;
	size_t rdlen = ct_get16(buf + 7);
	int m = ct_dname_check(rd, rdlen);
	int r = m < 0 ? m : ct_dname_check(rd + m, rdlen - (size_t)m);
	if (m < 0 || r < 0 || (size_t)(m + r + 20) != rdlen) {
		txn->ret = CT_EDBCORRUPT;
		return;
	}
	ct_put32(rd + m + r, zone.serial);
	ct_txn_put(txn, txn->store->rrsets, key, klen, buf, v.mv_size);
}

void ct_zone_delete(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len)
{
	uint8_t prefix[CT_KEY_MAXLEN + 1];
	memcpy(prefix, apex_key, apex_len);
	prefix[apex_len] = 0x00;
	ct_txn_del_prefix(txn, txn->store->rrsets, prefix, apex_len + 1);
	ct_txn_del_prefix(txn, txn->store->pools, prefix, apex_len + 1);
	/* health and schedules are keyed by pool keys, which start with the same prefix */
	ct_txn_del_prefix(txn, txn->store->health, prefix, apex_len + 1);
	ct_txn_del_prefix(txn, txn->store->schedules, prefix, apex_len + 1);
	ct_txn_del(txn, txn->store->zones, apex_key, apex_len);
}
