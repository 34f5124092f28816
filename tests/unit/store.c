/* SPDX-License-Identifier: MIT */
/* Unit tests: the LMDB store (open/create, schema, transactions, key layout, codecs, full map). */
#include "cutover/errcode.h"
#include "cutover/store.h"
#include "cutover/zonefile.h"
#include "tap.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Text to wire through the library (the dname tests have their own literal helper). */
static size_t wire(const char *text, uint8_t *out)
{
	int n = ct_zonefile_parse_name(text, out);
	return n < 0 ? 0 : (size_t)n;
}

static size_t key_of(const char *text, uint8_t *key)
{
	uint8_t w[CT_DNAME_MAXLEN];
	wire(text, w);
	return ct_dname_key(w, key);
}

static char *path_in(const char *name, char *out)
{
	snprintf(out, 128, "%s/%s", base, name);
	return out;
}

static void test_open(void)
{
	ct_store_t st;
	char db[128], empty[128];
	ct_store_opts_t create = { .create = true };

	is_int(ct_store_open(&st, path_in("missing", db), NULL), CT_ENODB, "missing db: CT_ENODB");
	ok(strstr(ct_store_last_error(), db) != NULL, "the message names the path: %s",
	   ct_store_last_error());
	mkdir(path_in("empty", empty), 0700);
	is_int(ct_store_open(&st, empty, NULL), CT_ENODB, "directory without data.mdb: CT_ENODB");
	ok(strstr(ct_store_last_error(), "zone import") != NULL,
	   "the message says how to create one");
	char zero[160];
	snprintf(zero, sizeof(zero), "%s/data.mdb", empty);
	FILE *f = fopen(zero, "w");
	if (f != NULL) {
		fclose(f);
	}
	is_int(ct_store_open(&st, empty, NULL), CT_ENODB, "zero-byte data.mdb: CT_ENODB");
	ok(strstr(ct_store_last_error(), "data.mdb is empty") != NULL,
	   "the message says the file is empty: %s", ct_store_last_error());

	is_int(ct_store_open(&st, path_in("db", db), &create), CT_EOK, "create");
	ct_store_close(&st);
	is_int(ct_store_open(&st, db, NULL), CT_EOK, "reopen without create");
	ct_store_close(&st);
	ct_store_opts_t ro = { .read_only = true };
	is_int(ct_store_open(&st, db, &ro), CT_EOK, "reopen read-only");
	ct_store_close(&st);
}

static void test_schema(void)
{
	ct_store_t st;
	ct_txn_t txn;
	char db[128];
	ct_store_opts_t create = { .create = true };
	is_int(ct_store_open(&st, path_in("schema", db), &create), CT_EOK,
	       "create for schema test");
	uint8_t v[5] = { CT_VALUE_VERSION, 0, 0, 0, 99 };
	ct_txn_begin(&st, &txn, true);
	ct_txn_put(&txn, st.meta, "schema", 6, v, sizeof(v));
	is_int(ct_txn_commit(&txn), CT_EOK, "bogus schema version written");
	ct_store_close(&st);
	is_int(ct_store_open(&st, db, NULL), CT_EDBVER, "schema version 99 refused: CT_EDBVER");
	ok(strstr(ct_store_last_error(), "version 99") != NULL, "message names the version: %s",
	   ct_store_last_error());
	ok(st.env == NULL, "store left closed");
	is_int(ct_store_open(&st, db, &create), CT_EDBVER, "refused with create too");
}

static int count_keys(ct_store_t *st, MDB_dbi dbi, const void *prefix, size_t plen)
{
	ct_txn_t txn;
	MDB_val k, v;
	int n = 0;
	ct_txn_begin(st, &txn, false);
	for (bool f = ct_txn_seek(&txn, dbi, prefix, plen, &k, &v);
	     f && ct_key_has_prefix(&k, prefix, plen); f = ct_txn_next(&txn, dbi, &k, &v)) {
		n++;
	}
	ct_txn_abort(&txn);
	return n;
}

static void test_kv(ct_store_t *st)
{
	ct_txn_t txn;
	MDB_val v;
	ct_txn_begin(st, &txn, true);
	const char *keys[] = { "ab1", "ab2", "ab", "ac", "b" };
	for (size_t i = 0; i < 5; i++) {
		ct_txn_put(&txn, st->meta, keys[i], strlen(keys[i]), keys[i], strlen(keys[i]));
	}
	is_int(ct_txn_commit(&txn), CT_EOK, "puts committed");

	ct_txn_begin(st, &txn, false);
	ok(ct_txn_get(&txn, st->meta, "ab2", 3, &v) && v.mv_size == 3 &&
	       memcmp(v.mv_data, "ab2", 3) == 0,
	   "get finds a value");
	ok(!ct_txn_get(&txn, st->meta, "zz", 2, &v), "get of a missing key is false");
	is_int(txn.ret, CT_EOK, "not-found leaves ret alone");
	ct_txn_abort(&txn);

	ct_txn_begin(st, &txn, true);
	ct_txn_del_prefix(&txn, st->meta, "ab", 2);
	ct_txn_del(&txn, st->meta, "nothere", 7);
	is_int(ct_txn_commit(&txn), CT_EOK, "del_prefix and del of a missing key");
	is_int(count_keys(st, st->meta, "a", 1), 1, "only 'ac' is left under 'a'");
	is_int(count_keys(st, st->meta, "b", 1), 1, "'b' untouched");

	/* sticky error: a failed operation makes later ones no-ops and commit aborts */
	ct_txn_begin(st, &txn, true);
	ct_txn_put(&txn, st->meta, "c1", 2, "x", 1);
	ct_txn_put(&txn, st->meta, "", 0, "x", 1); /* empty key: LMDB refuses */
	ok(txn.ret != CT_EOK, "empty key sets the sticky error");
	ct_txn_put(&txn, st->meta, "c2", 2, "x", 1);
	ok(ct_txn_commit(&txn) != CT_EOK, "commit reports it");
	is_int(count_keys(st, st->meta, "c", 1), 0, "nothing of the failed transaction is there");
}

static void test_rr_key(void)
{
	uint8_t owner[CT_KEY_MAXLEN], apex[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN];
	uint8_t back[CT_KEY_MAXLEN];
	size_t olen = key_of("www.app.example.", owner), alen = key_of("app.example.", apex);
	size_t klen = ct_rr_key(key, owner, olen, alen, 28);
	is_mem(key, klen, "example\0app\0\0www\0\0\0\x1c", 20, "rr key layout");
	MDB_val k = { klen, key };
	size_t bo, ba;
	uint16_t type;
	is_int(ct_rr_key_split(&k, back, &bo, &ba, &type), CT_EOK, "split");
	ok(ba == alen && bo == olen && memcmp(back, owner, olen) == 0 && type == 28,
	   "split gives back apex length, owner key and type");

	klen = ct_rr_key(key, apex, alen, alen, 6);
	k.mv_size = klen;
	is_int(ct_rr_key_split(&k, back, &bo, &ba, &type), CT_EOK, "split apex key");
	ok(ba == alen && bo == alen && type == 6, "apex owner round trip");

	klen = ct_rr_key(key, owner, olen, 0, 1);
	k.mv_size = klen;
	is_int(ct_rr_key_split(&k, back, &bo, &ba, &type), CT_EOK, "split root-zone key");
	ok(ba == 0 && bo == olen && memcmp(back, owner, olen) == 0, "root apex round trip");

	k.mv_size = 6;
	k.mv_data = (void *)"abc\0\0\x01";
	is_int(ct_rr_key_split(&k, back, &bo, &ba, &type), CT_EDBCORRUPT, "short key is corrupt");
	k.mv_size = 7;
	k.mv_data = (void *)"abc\0d\0\x01";
	is_int(ct_rr_key_split(&k, back, &bo, &ba, &type), CT_EDBCORRUPT,
	       "key without apex separator is corrupt");
}

static void test_rrset(void)
{
	ct_rrset_builder_t b;
	is_int(ct_rrset_builder_init(&b, 300), CT_EOK, "builder init");
	ct_rrset_builder_add(&b, (const uint8_t *)"\xc0\x00\x02\x01", 4);
	ct_rrset_builder_add(&b, (const uint8_t *)"\xc0\x00\x02\x02", 4);
	ct_rrset_builder_add(&b, (const uint8_t *)"\xc0\x00\x02\x01", 4);
	for (int i = 0; i < 200; i++) { /* grow past the initial buffer */
		uint8_t rd[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };
		ct_rrset_builder_add(&b, rd, 4);
	}
	MDB_val v = { b.len, b.buf };
	ct_rrset_t set;
	is_int(ct_rrset_parse(&v, &set), CT_EOK, "parse");
	is_int(set.ttl, 300, "ttl");
	is_int(set.count, 202, "duplicate skipped (RFC 2181 5)");
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	int n = 0;
	bool first = ct_rrset_next(&set, &pos, &rd, &rdlen) && rdlen == 4 &&
	             memcmp(rd, "\xc0\x00\x02\x01", 4) == 0;
	for (n = 1; ct_rrset_next(&set, &pos, &rd, &rdlen); n++) {
	}
	ok(first && n == 202, "iteration yields every rdata in order");
	v.mv_size--;
	is_int(ct_rrset_parse(&v, &set), CT_EDBCORRUPT, "truncated value is corrupt");
	v.mv_size = 3;
	is_int(ct_rrset_parse(&v, &set), CT_EDBCORRUPT, "short value is corrupt");
	b.buf[0] = 9;
	v.mv_size = b.len;
	is_int(ct_rrset_parse(&v, &set), CT_EDBCORRUPT, "unknown value version is corrupt");
	ct_rrset_builder_deinit(&b);
}

static void put_zone(ct_txn_t *txn, const char *apex, uint32_t serial)
{
	uint8_t key[CT_KEY_MAXLEN];
	ct_zone_t z = { .serial = serial };
	wire(apex, z.apex);
	ct_zone_put(txn, key, key_of(apex, key), &z);
}

static void put_soa(ct_txn_t *txn, const char *apex, uint32_t serial)
{
	uint8_t akey[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN], rd[64];
	size_t alen = key_of(apex, akey);
	size_t n = wire("ns1.x.", rd);
	n += wire("h.x.", rd + n);
	ct_put32(rd + n, serial);
	memset(rd + n + 4, 0, 16);
	ct_rrset_builder_t b;
	ct_rrset_builder_init(&b, 3600);
	ct_rrset_builder_add(&b, rd, (uint16_t)(n + 20));
	ct_txn_put(txn, txn->store->rrsets, key, ct_rr_key(key, akey, alen, alen, 6), b.buf, b.len);
	ct_rrset_builder_deinit(&b);
}

static uint32_t soa_serial(ct_store_t *st, const char *apex)
{
	uint8_t akey[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN];
	size_t alen = key_of(apex, akey);
	ct_txn_t txn;
	MDB_val v;
	ct_rrset_t set;
	uint32_t serial = 0;
	ct_txn_begin(st, &txn, false);
	if (ct_txn_get(&txn, st->rrsets, key, ct_rr_key(key, akey, alen, alen, 6), &v) &&
	    ct_rrset_parse(&v, &set) == CT_EOK) {
		serial = ct_get32(set.rdata + 2 + 7 + 5); /* rdlen, ns1.x., h.x. */
	}
	ct_txn_abort(&txn);
	return serial;
}

static void test_zones(ct_store_t *st)
{
	ct_txn_t txn;
	ct_zone_t z;
	uint8_t key[CT_KEY_MAXLEN];
	size_t alen, klen;

	ct_txn_begin(st, &txn, true);
	put_zone(&txn, "example.", 10);
	put_zone(&txn, "App.example.", 20);
	put_soa(&txn, "app.example.", 20);
	is_int(ct_txn_commit(&txn), CT_EOK, "zones written");

	ct_txn_begin(st, &txn, false);
	klen = key_of("www.APP.example.", key);
	ok(ct_zone_find(&txn, key, klen, &alen, &z), "www.app.example. is in a zone");
	is_int(alen, 12, "longest match: app.example.");
	is_int(z.serial, 20, "its serial");
	is_int(z.apex[1], 'A', "apex letter case kept");
	klen = key_of("www.example.", key);
	ok(ct_zone_find(&txn, key, klen, &alen, NULL) && alen == 8, "www.example. in example.");
	klen = key_of("example.", key);
	ok(ct_zone_find(&txn, key, klen, &alen, NULL) && alen == 8, "the apex itself");
	klen = key_of("www.example.org.", key);
	ok(!ct_zone_find(&txn, key, klen, &alen, NULL), "www.example.org. is in no zone");
	klen = key_of("xapp.example.", key);
	ok(ct_zone_find(&txn, key, klen, &alen, NULL) && alen == 8,
	   "xapp.example. is not in app.example.");
	ct_txn_abort(&txn);

	klen = key_of("app.example.", key);
	ct_txn_begin(st, &txn, true);
	ct_zone_bump_serial(&txn, key, klen);
	is_int(ct_txn_commit(&txn), CT_EOK, "bump serial");
	ct_txn_begin(st, &txn, false);
	ct_zone_find(&txn, key, klen, &alen, &z);
	ct_txn_abort(&txn);
	is_int(z.serial, 21, "zones entry serial bumped");
	is_int(soa_serial(st, "app.example."), 21, "SOA rdata serial bumped");

	ct_txn_begin(st, &txn, true);
	put_zone(&txn, "app.example.", UINT32_MAX);
	put_soa(&txn, "app.example.", UINT32_MAX);
	ct_zone_bump_serial(&txn, key, klen);
	is_int(ct_txn_commit(&txn), CT_EOK, "bump at 2^32-1");
	is_int(soa_serial(st, "app.example."), 0, "serial wraps to 0 (RFC 1982)");

	klen = key_of("example.", key);
	ct_txn_begin(st, &txn, true);
	ct_zone_bump_serial(&txn, key, klen);
	is_int(ct_txn_commit(&txn), CT_EDBCORRUPT, "bump without an SOA record: corrupt");
	klen = key_of("nothere.", key);
	ct_txn_begin(st, &txn, true);
	ct_zone_bump_serial(&txn, key, klen);
	is_int(ct_txn_commit(&txn), CT_ENOZONE, "bump of a missing zone: CT_ENOZONE");

	/* delete: records, pools and entry of that zone only; a zone below it stays */
	uint8_t akey[CT_KEY_MAXLEN], okey[CT_KEY_MAXLEN], rk[CT_RR_KEY_MAXLEN];
	size_t al = key_of("app.example.", akey);
	size_t ol = key_of("www.app.example.", okey);
	ct_txn_begin(st, &txn, true);
	put_zone(&txn, "sub.app.example.", 1);
	put_soa(&txn, "sub.app.example.", 1);
	ct_txn_put(&txn, st->rrsets, rk, ct_rr_key(rk, okey, ol, al, 1), "\x01", 1);
	ct_txn_put(&txn, st->pools, rk, ct_rr_key(rk, okey, ol, al, 1), "\x01", 1);
	size_t pl = ct_rr_key(rk, okey, ol, al, 1);
	memcpy(rk + pl, "\xc0\x00\x02\x01", 4); /* a health key: pool key + address */
	ct_txn_put(&txn, st->health, rk, pl + 4, "\x01", 1);
	ct_txn_put(&txn, st->schedules, rk, pl, "\x01", 1);
	ct_zone_delete(&txn, akey, al);
	is_int(ct_txn_commit(&txn), CT_EOK, "zone delete");
	rk[0] = 0;
	memcpy(rk, akey, al);
	rk[al] = 0;
	is_int(count_keys(st, st->rrsets, rk, al + 1), 0, "its records are gone");
	is_int(count_keys(st, st->pools, rk, al + 1), 0, "its pools are gone");
	is_int(count_keys(st, st->health, rk, al + 1), 0, "their health records are gone");
	is_int(count_keys(st, st->schedules, rk, al + 1), 0, "their schedules are gone");
	is_int(count_keys(st, st->zones, akey, al), 1, "its entry is gone, sub.app.example. stays");
	is_int(soa_serial(st, "sub.app.example."), 1, "the zone below keeps its records");
}

static void test_reader(ct_store_t *st)
{
	ct_txn_t rd, w;
	MDB_val v;
	is_int(ct_reader_init(st, &rd), CT_EOK, "reader init");
	ct_txn_begin(st, &w, true);
	ct_txn_put(&w, st->meta, "rkey", 4, "1", 1);
	ct_txn_commit(&w);
	is_int(ct_reader_renew(&rd), CT_EOK, "reader renew");
	ok(ct_txn_get(&rd, st->meta, "rkey", 4, &v) && ((char *)v.mv_data)[0] == '1',
	   "renewed reader sees a commit made while it was reset");
	ct_reader_reset(&rd);
	ct_txn_begin(st, &w, true);
	ct_txn_put(&w, st->meta, "rkey", 4, "2", 1);
	ct_txn_commit(&w);
	ct_reader_renew(&rd);
	MDB_val k;
	ok(ct_txn_seek(&rd, st->meta, "rkey", 4, &k, &v) && ((char *)v.mv_data)[0] == '2',
	   "and the next one, through a renewed cursor");
	ct_reader_reset(&rd);
	ct_reader_renew(&rd);
	ok(ct_txn_seek(&rd, st->meta, "rkey", 4, &k, &v), "cursor survives another reset/renew");
	ct_reader_reset(&rd);
	ct_reader_deinit(&rd);
}

static void test_full(void)
{
	ct_store_t st;
	ct_txn_t txn;
	char db[128];
	ct_store_opts_t tiny = { .create = true, .map_size = 128 * 1024 };
	is_int(ct_store_open(&st, path_in("tiny", db), &tiny), CT_EOK, "open a 128 KiB map");
	ct_txn_begin(&st, &txn, true);
	ct_txn_put(&txn, st.meta, "keep", 4, "1", 1);
	is_int(ct_txn_commit(&txn), CT_EOK, "a small write fits");

	uint8_t val[1000];
	memset(val, 'x', sizeof(val));
	ct_txn_begin(&st, &txn, true);
	ct_txn_put(&txn, st.meta, "keep", 4, "2", 1);
	int i;
	for (i = 0; i < 1000 && txn.ret == CT_EOK; i++) {
		char key[16];
		snprintf(key, sizeof(key), "big%04d", i);
		ct_txn_put(&txn, st.meta, key, strlen(key), val, sizeof(val));
	}
	is_int(txn.ret, CT_EDBFULL, "the map fills up: CT_EDBFULL (after %d puts)", i);
	is_int(ct_txn_commit(&txn), CT_EDBFULL, "commit reports CT_EDBFULL and aborts");
	ct_store_close(&st);

	ct_store_opts_t plain = { 0 };
	is_int(ct_store_open(&st, db, &plain), CT_EOK, "reopen after the failure");
	is_int(count_keys(&st, st.meta, "big", 3), 0, "nothing of the failed transaction");
	MDB_val v;
	ct_txn_begin(&st, &txn, false);
	ok(ct_txn_get(&txn, st.meta, "keep", 4, &v) && v.mv_size == 1 &&
	       ((char *)v.mv_data)[0] == '1',
	   "earlier data intact, not half-overwritten");
	ct_txn_abort(&txn);
	ct_store_close(&st);
	ok(strstr(ct_strerror(CT_EDBFULL), "map size") != NULL, "CT_EDBFULL text: %s",
	   ct_strerror(CT_EDBFULL));
}

#define BIG_MAP ((size_t)3 << 29) /* 1.5 GiB: above the default */

/* Fill the database past 1 MiB from another process with a larger map, as cutoverctl
 * --map-size does while cutoverd runs. */
static bool grow_elsewhere(const char *db, const char *prefix, int n, size_t map)
{
	pid_t pid = fork();
	if (pid == 0) {
		ct_store_t st;
		ct_txn_t txn;
		ct_store_opts_t big = { .map_size = map };
		uint8_t val[1000];
		memset(val, 'y', sizeof(val));
		if (ct_store_open(&st, db, &big) != CT_EOK) {
			_exit(1);
		}
		ct_txn_begin(&st, &txn, true);
		for (int i = 0; i < n; i++) {
			char key[32];
			snprintf(key, sizeof(key), "%s%05d", prefix, i);
			ct_txn_put(&txn, st.meta, key, strlen(key), val, sizeof(val));
		}
		int ret = ct_txn_commit(&txn);
		ct_store_close(&st);
		_exit(ret == CT_EOK ? 0 : 2);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* A reader (and a writer) of this process whose map is smaller than the data another process
 * wrote gets MDB_MAP_RESIZED from LMDB: it must adopt the larger map, not fail every query. */
static void test_resized(void)
{
	ct_store_t st;
	ct_txn_t rd, w;
	char db[128];
	MDB_val v;
	MDB_envinfo info;
	ct_store_opts_t small = { .create = true, .map_size = 1 << 20 };
	is_int(ct_store_open(&st, path_in("resized", db), &small), CT_EOK, "open a 1 MiB map");
	is_int(ct_reader_init(&st, &rd), CT_EOK, "reader init");
	ok(grow_elsewhere(db, "grown", 3000, BIG_MAP), "another process writes 3 MB with a 1.5 GiB map");
	is_int(ct_reader_renew(&rd), CT_EOK, "the reader renews past the end of its old map");
	ok(ct_txn_get(&rd, st.meta, "grown02999", 10, &v) && v.mv_size == 1000,
	   "and reads what was written there");
	ct_reader_reset(&rd);
	mdb_env_info(st.env, &info);
	ok(info.me_mapsize == BIG_MAP, "the map is the writer's size now: %zu",
	   info.me_mapsize);
	ok(grow_elsewhere(db, "again", 6000, BIG_MAP), "the database grows again, elsewhere");
	ct_txn_begin(&st, &w, true);
	is_int(w.ret, CT_EOK, "a write transaction begins past the end too");
	ct_txn_put(&w, st.meta, "mine", 4, "1", 1);
	is_int(ct_txn_commit(&w), CT_EOK, "and commits");
	is_int(ct_reader_renew(&rd), CT_EOK, "the reader renews again");
	ok(ct_txn_get(&rd, st.meta, "again05999", 10, &v) && ct_txn_get(&rd, st.meta, "mine", 4, &v),
	   "and sees both");
	ct_reader_reset(&rd);
	ct_reader_deinit(&rd);
	ct_store_close(&st);

	ct_store_opts_t plain = { 0 };
	is_int(ct_store_open(&st, db, &plain), CT_EOK, "reopen without a map size");
	mdb_env_info(st.env, &info);
	ok(info.me_mapsize == BIG_MAP, "keeps the largest size written with, above the default: %zu",
	   info.me_mapsize);
	ct_store_close(&st);
}

typedef struct {
	ct_store_t *st;
	atomic_bool stop;
	long reads, failures;
} readers_t;

static void *read_loop(void *arg)
{
	readers_t *r = arg;
	ct_txn_t rd;
	MDB_val v;
	if (ct_reader_init(r->st, &rd) != CT_EOK) {
		r->failures++;
		return NULL;
	}
	while (!atomic_load(&r->stop)) {
		if (ct_reader_renew(&rd) != CT_EOK || !ct_txn_get(&rd, r->st->meta, "keep", 4, &v) ||
		    v.mv_size != 1) {
			__atomic_fetch_add(&r->failures, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&r->reads, 1, __ATOMIC_RELAXED);
		ct_reader_reset(&rd);
	}
	ct_reader_deinit(&rd);
	return NULL;
}

/* Readers on two threads, as cutoverd's workers, while another process grows the database
 * past their map three times: every read succeeds, the map moves under none of them. */
static void test_resized_threads(void)
{
	ct_store_t st;
	ct_txn_t w;
	char db[128];
	ct_store_opts_t small = { .create = true, .map_size = 1 << 20 };
	is_int(ct_store_open(&st, path_in("threads", db), &small), CT_EOK, "open a 1 MiB map");
	ct_txn_begin(&st, &w, true);
	ct_txn_put(&w, st.meta, "keep", 4, "1", 1);
	ct_txn_commit(&w);
	readers_t r = { .st = &st };
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		pthread_create(&th[i], NULL, read_loop, &r);
	}
	bool grown = true;
	for (int i = 0; i < 3; i++) {
		char prefix[16];
		snprintf(prefix, sizeof(prefix), "g%d_", i);
		grown &= grow_elsewhere(db, prefix, 1500 << i, (size_t)4 << (20 + i));
	}
	/* let the readers renew past the last commit before they stop (bounded: 10 s) */
	long seen = __atomic_load_n(&r.reads, __ATOMIC_RELAXED);
	for (int i = 0; i < 1000 && __atomic_load_n(&r.reads, __ATOMIC_RELAXED) < seen + 1000; i++) {
		usleep(10000);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
	}
	ok(grown, "another process grew it to 4, 8 and 16 MiB maps");
	is_int(r.failures, 0, "no read failed (%ld reads)", r.reads);
	MDB_envinfo info;
	ct_store_info(&st, &info, NULL);
	ok(info.me_mapsize == (size_t)16 << 20, "the map is the last size: %zu", info.me_mapsize);
	ct_store_close(&st);
}

/* Write n values of 1000 bytes under keys PREFIXnnnnn in one transaction. */
static int put_many(ct_store_t *st, const char *prefix, int n)
{
	ct_txn_t txn;
	uint8_t val[1000];
	memset(val, 'z', sizeof(val));
	ct_txn_begin(st, &txn, true);
	for (int i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "%s%05d", prefix, i);
		ct_txn_put(&txn, st->meta, key, strlen(key), val, sizeof(val));
	}
	return ct_txn_commit(&txn);
}

/* cutoverd's map is full (its health writes fail); the operator raises the size with
 * cutoverctl --map-size, which writes little: cutoverd's next write adopts the size. */
static void test_full_raised(void)
{
	ct_store_t st;
	char db[128];
	ct_store_opts_t small = { .create = true, .map_size = 1 << 20 };
	is_int(ct_store_open(&st, path_in("raised", db), &small), CT_EOK, "open a 1 MiB map");
	is_int(put_many(&st, "fill", 600), CT_EOK, "600 KB fit");
	is_int(put_many(&st, "more", 600), CT_EDBFULL, "600 KB more do not");
	ok(grow_elsewhere(db, "tiny", 1, BIG_MAP), "another process raises the map, writing 1 KB");
	is_int(put_many(&st, "more", 600), CT_EOK, "the write tried again adopts the new size");
	ct_store_close(&st);
}

int main(void)
{
	strcpy(base, "/tmp/ct-store-XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_schema();

	ct_store_t st;
	char db[128];
	ct_store_opts_t create = { .create = true };
	if (ct_store_open(&st, path_in("main", db), &create) != CT_EOK) {
		diag("cannot open %s: %s", db, ct_store_last_error());
		return 1;
	}
	test_kv(&st);
	test_rr_key();
	test_rrset();
	test_zones(&st);
	test_reader(&st);
	ct_store_close(&st);
	test_full();
	test_resized();
	test_full_raised();
	test_resized_threads();

	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	done_testing();
	return exit_status();
}
