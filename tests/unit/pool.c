/* SPDX-License-Identifier: MIT */
/* Unit tests: pools in the store (codec, checks, put/replace/delete, markers, conflicts,
 * history, serials, markers restored after a zone import). */
#include "cutover/errcode.h"
#include "cutover/history.h"
#include "cutover/log.h"
#include "cutover/pool.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"
#include "tap.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static size_t wire(const char *text, uint8_t *out)
{
	int n = ct_zonefile_parse_name(text, out);
	return n < 0 ? 0 : (size_t)n;
}

/* A pool of type with groups "blue" (weight 100, 2 targets) and "green" (0, 1 target). */
static void make_pool(ct_pool_t *p, uint16_t type)
{
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->policy = CT_POLICY_WEIGHTED;
	p->ttl = 30;
	p->ngroups = 2;
	snprintf(p->groups[0].name, sizeof(p->groups[0].name), "blue");
	p->groups[0].weight = 100;
	p->groups[0].ntargets = 2;
	snprintf(p->groups[1].name, sizeof(p->groups[1].name), "green");
	p->groups[1].ntargets = 1;
	for (int g = 0; g < 2; g++) {
		for (int t = 0; t < p->groups[g].ntargets; t++) {
			uint8_t *a = p->groups[g].targets[t];
			if (type == CT_TYPE_A) {
				a[0] = 192, a[1] = 0, a[2] = (uint8_t)(2 + g),
				a[3] = (uint8_t)(10 + t);
			} else {
				a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8,
				a[15] = (uint8_t)(16 * g + t);
			}
		}
	}
}

/* ------------------------------------------------------------------------------------------ */

static void test_codec(void)
{
	static ct_pool_t p, q;
	static uint8_t buf[CT_POOL_VALUE_MAX], buf2[CT_POOL_VALUE_MAX];
	for (int i = 0; i < 2; i++) {
		uint16_t type = i == 0 ? CT_TYPE_A : CT_TYPE_AAAA;
		make_pool(&p, type);
		p.policy = CT_POLICY_STICKY;
		p.answers = 3;
		p.flags = CT_POOL_NO_PREVIEW;
		snprintf(p.preview_prefix, sizeof(p.preview_prefix), "pv-");
		size_t len = ct_pool_encode(&p, buf);
		size_t alen = type == CT_TYPE_A ? 4 : 16;
		is_int(len, 13 + 3 + 1 + (1 + 4 + 6 + 2 * alen) + (1 + 5 + 6 + alen),
		       "%s: encoded length", type == CT_TYPE_A ? "A" : "AAAA");
		is_int(buf[0], CT_VALUE_VERSION, "value starts with the version byte");
		is_int(ct_pool_decode(buf, len, &q), CT_EOK, "decodes");
		ok(q.type == type && q.policy == CT_POLICY_STICKY && q.ttl == 30 &&
		       q.answers == 3 && q.flags == CT_POOL_NO_PREVIEW &&
		       strcmp(q.preview_prefix, "pv-") == 0 && q.ngroups == 2,
		   "settings survive the round trip");
		ok(strcmp(q.groups[1].name, "green") == 0 && q.groups[0].weight == 100 &&
		       q.groups[0].ntargets == 2 &&
		       memcmp(q.groups[0].targets[1], p.groups[0].targets[1], alen) == 0,
		   "groups, weights and targets survive");
		is_mem(buf2, ct_pool_encode(&q, buf2), buf, len, "encode(decode(v)) == v");
		ct_pool_view_t v;
		is_int(ct_pool_view_parse(buf, len, &v), CT_EOK, "view parses");
		ok(v.addr_len == alen && v.ngroups == 2 && v.groups[1].name_len == 5 &&
		       memcmp(v.groups[1].addrs, p.groups[1].targets[0], alen) == 0,
		   "view points at the groups in place");
		is_int(ct_pool_decode(buf, len - 1, &q), CT_EDBCORRUPT, "truncated: corrupt");
		buf[len] = 0;
		is_int(ct_pool_decode(buf, len + 1, &q), CT_EDBCORRUPT, "trailing byte: corrupt");
		buf[0] = 99;
		is_int(ct_pool_decode(buf, len, &q), CT_EDBCORRUPT, "unknown version: corrupt");
	}
	is_int(ct_pool_decode(buf, 3, &q), CT_EDBCORRUPT, "short value: corrupt");
}

/* A health check with every field set, of kind. */
static void make_check(ct_pool_check_t *c, uint8_t kind)
{
	ct_pool_check_defaults(c, kind);
	c->port = 8443;
	c->interval_ms = 500;
	c->timeout_ms = 200;
	c->rise = 4;
	c->fall = 5;
	if (kind != CT_CHECK_TCP) {
		c->status_min = 200;
		c->status_max = 299;
		c->insecure = kind == CT_CHECK_HTTPS;
		snprintf(c->path, sizeof(c->path), "/healthz?full=1");
		snprintf(c->host, sizeof(c->host), "api.internal");
		snprintf(c->expect, sizeof(c->expect), "status: ok \"yes\"");
	}
}

static void test_check_codec(void)
{
	static ct_pool_t p, q;
	static uint8_t buf[CT_POOL_VALUE_MAX], buf2[CT_POOL_VALUE_MAX];
	ct_pool_check_t d;
	ct_pool_check_defaults(&d, CT_CHECK_HTTP);
	ok(d.kind == CT_CHECK_HTTP && d.interval_ms == 1000 && d.timeout_ms == 1000 &&
	       d.rise == 2 && d.fall == 3 && d.status_min == 200 && d.status_max == 399 &&
	       !d.insecure && d.port == 0 && d.path[0] == '\0' && d.host[0] == '\0' &&
	       d.expect[0] == '\0',
	   "check defaults: 1s interval and timeout, rise 2, fall 3, status 200-399");
	ct_pool_check_defaults(&d, CT_CHECK_NONE);
	ok(d.kind == CT_CHECK_NONE && d.interval_ms == 0, "no check: all zero");

	make_pool(&p, CT_TYPE_A);
	size_t plain = ct_pool_encode(&p, buf);
	for (uint8_t kind = CT_CHECK_TCP; kind <= CT_CHECK_HTTPS; kind++) {
		make_pool(&p, kind == CT_CHECK_HTTP ? CT_TYPE_AAAA : CT_TYPE_A);
		make_check(&p.check, kind);
		p.flags = CT_POOL_ALLDOWN_NODATA;
		size_t len = ct_pool_encode(&p, buf);
		is_int(ct_pool_decode(buf, len, &q), CT_EOK, "kind %u: decodes", kind);
		ok(memcmp(&q.check, &p.check, sizeof(q.check)) == 0,
		   "kind %u: every field of the check survives", kind);
		is_int(q.flags, CT_POOL_ALLDOWN_NODATA, "kind %u: all-down nodata survives", kind);
		is_mem(buf2, ct_pool_encode(&q, buf2), buf, len, "kind %u: encode(decode(v)) == v",
		       kind);
		ct_pool_view_t v;
		ct_pool_check_t c;
		is_int(ct_pool_view_parse(buf, len, &v), CT_EOK, "kind %u: view parses", kind);
		ok(v.check != NULL && ct_pool_check_parse(&v, &c) == CT_EOK &&
		       memcmp(&c, &p.check, sizeof(c)) == 0,
		   "kind %u: the view's check decodes to the same", kind);
		is_int(ct_pool_decode(buf, len - 1, &q), CT_EDBCORRUPT, "kind %u: truncated check",
		       kind);
		buf[len] = 0;
		is_int(ct_pool_decode(buf, len + 1, &q), CT_EDBCORRUPT, "kind %u: trailing byte",
		       kind);
	}
	make_pool(&p, CT_TYPE_A);
	size_t len = ct_pool_encode(&p, buf);
	is_int(len, plain, "a pool without a check: the value has no check part");
	ct_pool_view_t v;
	ct_pool_view_parse(buf, len, &v);
	ok(v.check == NULL && ct_pool_check_parse(&v, &q.check) == CT_EOK &&
	       q.check.kind == CT_CHECK_NONE,
	   "and its view has none (kind none)");

	/* texts of the largest size */
	make_pool(&p, CT_TYPE_A);
	make_check(&p.check, CT_CHECK_HTTPS);
	memset(p.check.path + 1, 'p', CT_CHECK_TEXTLEN - 1);
	memset(p.check.host, 'h', CT_CHECK_TEXTLEN);
	memset(p.check.expect, 'e', CT_CHECK_TEXTLEN);
	len = ct_pool_encode(&p, buf);
	ok(len <= CT_POOL_VALUE_MAX && ct_pool_decode(buf, len, &q) == CT_EOK &&
	       memcmp(&q.check, &p.check, sizeof(q.check)) == 0,
	   "255-byte path, host and body round-trip");

	/* a check part that does not add up */
	make_pool(&p, CT_TYPE_A);
	make_check(&p.check, CT_CHECK_HTTP);
	len = ct_pool_encode(&p, buf);
	buf[plain] = CT_CHECK_HTTPS + 1;
	is_int(ct_pool_decode(buf, len, &q), CT_EDBCORRUPT, "an unknown check kind: corrupt");
	buf[plain] = CT_CHECK_NONE;
	is_int(ct_pool_decode(buf, len, &q), CT_EDBCORRUPT, "check kind none stored: corrupt");
	buf[plain] = CT_CHECK_HTTP;
	buf[plain + 18] = 200; /* the path's length, past the end */
	is_int(ct_pool_decode(buf, len, &q), CT_EDBCORRUPT, "a text past the end: corrupt");
	is_int(ct_pool_decode(buf, plain + 10, &q), CT_EDBCORRUPT, "a short check: corrupt");
}

/* ct_pool_check refuses p with a message containing want. */
static void refused(const ct_pool_t *p, const char *want, const char *what)
{
	char err[512] = "";
	int ret = ct_pool_check(p, err, sizeof(err));
	ok(ret == CT_EINVAL && strstr(err, want) != NULL, "check refuses %s: %s", what, err);
}

static void test_check(void)
{
	static ct_pool_t p;
	char err[512];
	make_pool(&p, CT_TYPE_A);
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "a good pool passes");
	p.groups[0].weight = p.groups[1].weight = 0;
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "all weights 0 pass");
	p.groups[1].ntargets = 0;
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "a group without targets passes");
	p.groups[0].weight = CT_POOL_MAX_WEIGHT;
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "the largest weight passes");

	make_pool(&p, CT_TYPE_A);
	p.type = CT_TYPE_MX;
	refused(&p, "A or AAAA", "type MX");
	make_pool(&p, CT_TYPE_A);
	p.policy = 3;
	refused(&p, "weighted, sticky or failover", "an unknown policy");
	make_pool(&p, CT_TYPE_A);
	p.ttl = 0x80000000u;
	refused(&p, "TTL 2147483648", "a TTL above 2^31-1");
	make_pool(&p, CT_TYPE_A);
	p.ngroups = 0;
	refused(&p, "1 to 16 groups", "no groups");
	p.ngroups = CT_POOL_MAX_GROUPS + 1;
	refused(&p, "1 to 16 groups", "17 groups");
	make_pool(&p, CT_TYPE_A);
	snprintf(p.preview_prefix, sizeof(p.preview_prefix), "a.b");
	refused(&p, "preview prefix 'a.b'", "a dot in the preview prefix");
	make_pool(&p, CT_TYPE_A);
	snprintf(p.groups[1].name, sizeof(p.groups[1].name), "gr een");
	refused(&p, "group name 'gr een'", "a blank in a group name");
	p.groups[1].name[0] = '\0';
	refused(&p, "group name ''", "an empty group name");
	make_pool(&p, CT_TYPE_A);
	memset(p.preview_prefix, 'p', 60);
	refused(&p, "is longer than 63", "prefix + group longer than a label");
	make_pool(&p, CT_TYPE_A);
	snprintf(p.groups[1].name, sizeof(p.groups[1].name), "BLUE");
	refused(&p, "named twice", "the same group twice (letter case ignored)");
	make_pool(&p, CT_TYPE_A);
	p.groups[1].weight = CT_POOL_MAX_WEIGHT + 1;
	refused(&p, "weight 1000001 is above 1000000", "a weight above the maximum");
	make_pool(&p, CT_TYPE_A);
	memcpy(p.groups[0].targets[1], p.groups[0].targets[0], 4);
	refused(&p, "listed twice", "a target twice in a group");
	make_pool(&p, CT_TYPE_A);
	p.groups[0].ntargets = CT_POOL_MAX_TARGETS + 1;
	refused(&p, "at most 64 targets", "65 targets");

	/* the health check: every refusal */
	make_pool(&p, CT_TYPE_A);
	make_check(&p.check, CT_CHECK_HTTPS);
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "a pool with an https check passes");
	p.check.interval_ms = CT_CHECK_MIN_INTERVAL;
	p.check.timeout_ms = CT_CHECK_MIN_INTERVAL;
	p.check.rise = p.check.fall = 100;
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK,
	       "interval 100 ms, timeout = interval, rise and fall 100 pass");
	make_check(&p.check, CT_CHECK_TCP);
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "a tcp check passes (no status range)");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.path[0] = '\0';
	is_int(ct_pool_check(&p, err, sizeof(err)), CT_EOK, "an empty path passes (it means /)");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.kind = CT_CHECK_HTTPS + 1;
	refused(&p, "check must be tcp, http or https", "an unknown check kind");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.port = 0;
	refused(&p, "check port must be 1 to 65535", "check port 0");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.interval_ms = 99;
	refused(&p, "check interval 99 ms: must be 100 ms to 1 hour", "an interval below 100 ms");
	p.check.interval_ms = 3600001;
	refused(&p, "check interval 3600001 ms: must be 100 ms to 1 hour", "an interval above 1 h");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.timeout_ms = 501;
	refused(&p, "check timeout 501 ms: must be 10 ms up to the interval (500 ms)",
	        "a timeout above the interval");
	p.check.timeout_ms = 9;
	refused(&p, "check timeout 9 ms: must be 10 ms up to the interval (500 ms)",
	        "a timeout below 10 ms");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.rise = 0;
	refused(&p, "check rise and fall must be 1 to 100", "rise 0");
	p.check.rise = 2;
	p.check.fall = 101;
	refused(&p, "check rise and fall must be 1 to 100", "fall 101");
	make_check(&p.check, CT_CHECK_HTTP);
	p.check.status_min = 99;
	refused(&p, "check status range 99-299: must lie within 100-599", "status below 100");
	p.check.status_min = 200;
	p.check.status_max = 600;
	refused(&p, "check status range 200-600: must lie within 100-599", "status above 599");
	p.check.status_min = 300;
	p.check.status_max = 200;
	refused(&p, "check status range 300-200: must lie within 100-599", "an upside-down range");
	make_check(&p.check, CT_CHECK_HTTP);
	snprintf(p.check.path, sizeof(p.check.path), "healthz");
	refused(&p, "check path 'healthz' must start with '/'", "a path without '/'");
	snprintf(p.check.path, sizeof(p.check.path), "/a b");
	refused(&p, "check path must not hold spaces or control characters", "a blank in the path");
	snprintf(p.check.path, sizeof(p.check.path), "/a\r\n");
	refused(&p, "check path must not hold spaces or control characters", "CR LF in the path");
	make_check(&p.check, CT_CHECK_HTTP);
	snprintf(p.check.host, sizeof(p.check.host), "a b");
	refused(&p, "check host must not hold spaces or control characters", "a blank in the host");
	snprintf(p.check.host, sizeof(p.check.host), "a\x7f");
	refused(&p, "check host must not hold spaces or control characters", "DEL in the host");

	ok(ct_pool_label_ok("us-east_1", false) && ct_pool_label_ok("", true) &&
	       !ct_pool_label_ok("", false) && !ct_pool_label_ok("a.b", true) &&
	       !ct_pool_label_ok("é", true),
	   "label text: letters, digits, '-', '_'; empty only for a prefix");
	make_pool(&p, CT_TYPE_A);
	ok(ct_pool_group_find(&p, "GREEN") == 1 && ct_pool_group_find(&p, "red") == -1,
	   "group_find ignores letter case");
}

/* ------------------------------------------------------------------------------------------
 * The store. */

static ct_store_t st;
static uint8_t apex[CT_DNAME_MAXLEN], apex_key[CT_KEY_MAXLEN];
static size_t apex_len;

static const char zone_text[] = "$ORIGIN pools.test.\n$TTL 300\n"
                                "@ SOA ns1 hostmaster 100 3600 600 86400 60\n@ NS ns1\n"
                                "ns1 A 192.0.2.1\n"
                                "static A 192.0.2.2\n"
                                "static6 AAAA 2001:db8::2\n"
                                "alias CNAME static\n"
                                "sub NS ns.sub\nns.sub A 192.0.2.3\n"
                                "blue.taken TXT \"here\"\n"
                                "taken A 192.0.2.4\n";

/* Import errors are expected in some tests: keep them off the output. */
static void quiet(void *ctx, int prio, const char *msg)
{
}

static int import_text(const char *text)
{
	FILE *f = fopen("pools.zone", "w");
	if (f == NULL) {
		return -1;
	}
	fputs(text, f);
	fclose(f);
	ct_zonefile_t zf;
	ct_zonefile_init(&zf, quiet, NULL);
	int ret = ct_zonefile_parse(&zf, "pools.zone", NULL);
	if (ret == CT_EOK) {
		ret = ct_zonefile_validate(&zf);
	}
	if (ret == CT_EOK) {
		ct_txn_t txn;
		ct_txn_begin(&st, &txn, true);
		ct_zonefile_write(&zf, &txn);
		ret = ct_txn_commit(&txn);
	}
	ct_zonefile_deinit(&zf);
	return ret;
}

static uint32_t serial(void)
{
	ct_txn_t txn;
	ct_zone_t z = { 0 };
	MDB_val v;
	ct_txn_begin(&st, &txn, false);
	if (ct_txn_get(&txn, st.zones, apex_key, apex_len, &v)) {
		ct_zone_parse(&v, &z);
	}
	ct_txn_abort(&txn);
	return z.serial;
}

static uint64_t history_count(void)
{
	ct_txn_t txn;
	MDB_stat s = { 0 };
	ct_txn_begin(&st, &txn, false);
	mdb_stat(txn.txn, st.history, &s);
	ct_txn_abort(&txn);
	return s.ms_entries;
}

/* The rrsets value at owner/type: copied into out (256 bytes); its length, 0 if none. */
static size_t record(const char *owner, uint16_t type, uint8_t *out)
{
	uint8_t o[CT_DNAME_MAXLEN], okey[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN];
	wire(owner, o);
	size_t olen = ct_dname_key(o, okey), n = 0;
	ct_txn_t txn;
	MDB_val v;
	ct_txn_begin(&st, &txn, false);
	if (ct_txn_get(&txn, st.rrsets, key, ct_rr_key(key, okey, olen, apex_len, type), &v) &&
	    v.mv_size <= 256) {
		memcpy(out, v.mv_data, v.mv_size);
		n = v.mv_size;
	}
	ct_txn_abort(&txn);
	return n;
}

/* True if owner/type holds a marker of group (CT_POOLREF_ALL: the pool itself). */
static bool marker(const char *owner, uint16_t type, uint8_t group)
{
	uint8_t v[256];
	size_t n = record(owner, type, v);
	return n > 2 && v[0] == CT_VALUE_POOLREF && v[1] == group;
}

/* Put p at owner in its own transaction; the put's status, *changed, err; commit status. */
static int put(const char *owner, const ct_pool_t *p, bool *changed, char *err, int *commit)
{
	uint8_t o[CT_DNAME_MAXLEN];
	ct_txn_t txn;
	err[0] = '\0';
	wire(owner, o);
	ct_txn_begin(&st, &txn, true);
	int ret = ct_pool_put(&txn, o, p, "tester", "pool set", changed, err, 512);
	*commit = ct_txn_commit(&txn);
	return ret;
}

/* A put that must be refused with a message containing want, writing nothing. */
static void put_refused(const char *owner, const ct_pool_t *p, int want_ret, const char *want,
                        const char *what)
{
	char err[512];
	bool changed = true;
	int commit;
	uint32_t s = serial();
	uint64_t h = history_count();
	int ret = put(owner, p, &changed, err, &commit);
	ok(ret == want_ret && strstr(err, want) != NULL, "refused: %s: %s", what, err);
	ok(commit != CT_EOK && !changed && serial() == s && history_count() == h,
	   "%s: the commit writes nothing", what);
}

static void test_put(void)
{
	static ct_pool_t p, q, aaaa;
	char err[512];
	bool changed;
	int commit;
	uint8_t o[CT_DNAME_MAXLEN];
	ct_txn_t txn;

	is_int(import_text(zone_text), CT_EOK, "zone pools.test imported");
	uint32_t s0 = serial();
	make_pool(&p, CT_TYPE_A);
	is_int(put("api.pools.test", &p, &changed, err, &commit), CT_EOK, "create: %s", err);
	ok(changed && commit == CT_EOK, "create: changed, committed");
	is_int(serial(), s0 + 1, "create bumps the serial");
	is_int(history_count(), 1, "create appends one history entry");
	ok(marker("api.pools.test", CT_TYPE_A, CT_POOLREF_ALL), "marker at the name");
	ok(marker("blue.api.pools.test", CT_TYPE_A, 0) &&
	       marker("green.api.pools.test", CT_TYPE_A, 1),
	   "preview markers at blue. and green. with their group index");
	wire("api.pools.test", o);
	ct_txn_begin(&st, &txn, false);
	is_int(ct_pool_get(&txn, o, CT_TYPE_A, &q), CT_EOK, "get finds it");
	ok(q.ngroups == 2 && q.groups[0].weight == 100, "get returns it");
	is_int(ct_pool_get(&txn, o, CT_TYPE_AAAA, &q), CT_ENOTFOUND, "no AAAA pool: CT_ENOTFOUND");
	ct_history_t h;
	uint8_t pkey[CT_RR_KEY_MAXLEN];
	size_t pklen;
	static uint8_t enc[CT_POOL_VALUE_MAX];
	size_t enclen = ct_pool_encode(&p, enc);
	ct_pool_key(&txn, o, CT_TYPE_A, pkey, &pklen, err, sizeof(err));
	ok(ct_history_last(&txn, pkey, pklen, &h), "history has the pool's entry");
	ok(h.actor_len == 6 && memcmp(h.actor, "tester", 6) == 0 && h.action_len == 8 &&
	       memcmp(h.action, "pool set", 8) == 0 && h.before_len == 0,
	   "entry: actor, action, nothing before");
	is_mem(h.after, h.after_len, enc, enclen, "entry: after is the pool's value");
	MDB_val kv = { pklen, pkey };
	uint8_t back[CT_DNAME_MAXLEN];
	uint16_t type = 0;
	ok(ct_pool_key_owner(&kv, back, &type) == CT_EOK && ct_dname_eq(back, o) &&
	       type == CT_TYPE_A,
	   "key_owner gives the name and type back");
	ct_txn_abort(&txn);

	/* the same pool again: nothing written */
	is_int(put("API.pools.test.", &p, &changed, err, &commit), CT_EOK, "unchanged put: ok");
	ok(!changed && serial() == s0 + 1 && history_count() == 1,
	   "unchanged: no history, no serial bump");

	/* replace: weights and the preview prefix */
	p.groups[0].weight = 90;
	p.groups[1].weight = 10;
	snprintf(p.preview_prefix, sizeof(p.preview_prefix), "pv-");
	is_int(put("api.pools.test", &p, &changed, err, &commit), CT_EOK, "replace: %s", err);
	ok(changed && serial() == s0 + 2 && history_count() == 2, "replace: history and serial");
	ok(!marker("blue.api.pools.test", CT_TYPE_A, 0) &&
	       marker("pv-blue.api.pools.test", CT_TYPE_A, 0) &&
	       marker("pv-green.api.pools.test", CT_TYPE_A, 1),
	   "preview markers move with the prefix");
	ct_txn_begin(&st, &txn, false);
	ok(ct_history_last(&txn, pkey, pklen, &h) && h.before_len == enclen &&
	       memcmp(h.before, enc, enclen) == 0,
	   "replace: before is the old value");
	ct_txn_abort(&txn);
	p.flags = CT_POOL_NO_PREVIEW;
	p.preview_prefix[0] = '\0';
	is_int(put("api.pools.test", &p, &changed, err, &commit), CT_EOK, "previews off: %s", err);
	ok(!marker("pv-blue.api.pools.test", CT_TYPE_A, 0) &&
	       record("blue.api.pools.test", CT_TYPE_A, (uint8_t[256]){ 0 }) == 0 &&
	       marker("api.pools.test", CT_TYPE_A, CT_POOLREF_ALL),
	   "previews off: only the name's marker");
	p.flags = 0;
	is_int(put("api.pools.test", &p, &changed, err, &commit), CT_EOK, "previews on again");

	/* the AAAA twin may have preview names at the same places */
	make_pool(&aaaa, CT_TYPE_AAAA);
	is_int(put("api.pools.test", &aaaa, &changed, err, &commit), CT_EOK,
	       "AAAA twin with the same preview names: %s", err);
	ok(marker("green.api.pools.test", CT_TYPE_AAAA, 1) &&
	       marker("green.api.pools.test", CT_TYPE_A, 1),
	   "both families' preview markers at green.api");
	make_pool(&aaaa, CT_TYPE_AAAA);
	is_int(put("static.pools.test", &aaaa, &changed, err, &commit), CT_EOK,
	       "an AAAA pool beside static A records: %s", err);

	/* conflicts */
	make_pool(&q, CT_TYPE_A);
	put_refused("static.pools.test", &q, CT_EEXIST, "static.pools.test. has static A records",
	            "static A at the name");
	make_pool(&q, CT_TYPE_AAAA);
	put_refused("static6.pools.test", &q, CT_EEXIST, "has static AAAA records",
	            "static AAAA at the name");
	make_pool(&q, CT_TYPE_A);
	put_refused("alias.pools.test", &q, CT_EEXIST, "alias.pools.test. has a CNAME",
	            "a CNAME at the name");
	put_refused("sub.pools.test", &q, CT_EEXIST, "at or below the delegation sub.pools.test.",
	            "the name of a delegation");
	put_refused("x.ns.sub.pools.test", &q, CT_EEXIST,
	            "x.ns.sub.pools.test. is at or below the delegation sub.pools.test.",
	            "a name below a delegation");
	put_refused("x.nowhere.test", &q, CT_ENOZONE, "x.nowhere.test. is in no zone",
	            "a name outside every zone");
	put_refused("taken.pools.test", &q, CT_EEXIST, "taken.pools.test. has static A records",
	            "static A (with a preview clash too)");
	make_pool(&q, CT_TYPE_AAAA);
	put_refused("taken.pools.test", &q, CT_EEXIST,
	            "preview name blue.taken.pools.test. would shadow existing records",
	            "a preview name on a static record");
	q.flags = CT_POOL_NO_PREVIEW;
	is_int(put("taken.pools.test", &q, &changed, err, &commit), CT_EOK,
	       "the same pool without previews is fine: %s", err);
	make_pool(&q, CT_TYPE_A);
	put_refused("green.api.pools.test", &q, CT_EEXIST,
	            "green.api.pools.test. is a preview name of the A pool at api.pools.test.",
	            "a name that is another pool's preview name");
	make_pool(&q, CT_TYPE_AAAA);
	put_refused("green.api.pools.test", &q, CT_EEXIST, "is a preview name of the",
	            "another pool's preview name, other type");
	make_pool(&q, CT_TYPE_A);
	put_refused("*.pools.test", &q, CT_EINVAL, "wildcard", "a wildcard name");
	q.ngroups = 0;
	put_refused("new.pools.test", &q, CT_EINVAL, "1 to 16 groups",
	            "a pool that fails the check");
	/* a pool whose preview name would be an existing pool's name */
	make_pool(&q, CT_TYPE_A);
	is_int(put("blue.web.pools.test", &q, &changed, err, &commit), CT_EOK, "pool at blue.web");
	put_refused("web.pools.test", &q, CT_EEXIST,
	            "preview name blue.web.pools.test. would shadow",
	            "a preview name on another pool's name");

	/* delete */
	uint32_t s1 = serial();
	uint64_t h1 = history_count();
	wire("api.pools.test", o);
	ct_txn_begin(&st, &txn, true);
	is_int(ct_pool_delete(&txn, o, CT_TYPE_A, "tester", NULL, err, sizeof(err)), CT_EOK,
	       "delete");
	is_int(ct_txn_commit(&txn), CT_EOK, "delete committed");
	ok(serial() == s1 + 1 && history_count() == h1 + 1, "delete: history and serial");
	ok(record("api.pools.test", CT_TYPE_A, (uint8_t[256]){ 0 }) == 0 &&
	       record("green.api.pools.test", CT_TYPE_A, (uint8_t[256]){ 0 }) == 0 &&
	       marker("green.api.pools.test", CT_TYPE_AAAA, 1),
	   "delete removes the A markers, not the AAAA twin's");
	ct_txn_begin(&st, &txn, false);
	ct_pool_key(&txn, o, CT_TYPE_A, pkey, &pklen, err, sizeof(err));
	ok(ct_history_last(&txn, pkey, pklen, &h) && h.after_len == 0 && h.before_len > 0 &&
	       h.action_len == 11 && memcmp(h.action, "pool delete", 11) == 0,
	   "delete entry: before kept, nothing after, action 'pool delete'");
	ct_txn_abort(&txn);
	ct_txn_begin(&st, &txn, true);
	is_int(ct_pool_delete(&txn, o, CT_TYPE_A, "tester", "rollback", err, sizeof(err)),
	       CT_ENOTFOUND, "delete of a missing pool: CT_ENOTFOUND");
	ok(strstr(err, "api.pools.test. has no A pool") != NULL && txn.ret == CT_ENOTFOUND,
	   "with a message, and the transaction fails: %s", err);
	ct_txn_abort(&txn);
	ct_txn_begin(&st, &txn, true);
	ct_pool_delete(&txn, o, CT_TYPE_AAAA, "ops", "rollback", err, sizeof(err));
	is_int(ct_txn_commit(&txn), CT_EOK, "delete with an action");
	ct_txn_begin(&st, &txn, false);
	ct_pool_key(&txn, o, CT_TYPE_AAAA, pkey, &pklen, err, sizeof(err));
	ok(ct_history_last(&txn, pkey, pklen, &h) && h.action_len == 8 &&
	       memcmp(h.action, "rollback", 8) == 0 && h.actor_len == 3,
	   "the delete's action and actor are recorded");
	ct_txn_abort(&txn);

	/* a change of the check alone is a change of the pool */
	make_pool(&p, CT_TYPE_A);
	is_int(put("chk.pools.test", &p, &changed, err, &commit), CT_EOK, "a pool without check");
	uint64_t hc = history_count();
	uint32_t sc = serial();
	make_check(&p.check, CT_CHECK_HTTP);
	is_int(put("chk.pools.test", &p, &changed, err, &commit), CT_EOK, "add a check: %s", err);
	ok(changed && history_count() == hc + 1 && serial() == sc + 1,
	   "adding a check: history entry and serial bump");
	is_int(put("chk.pools.test", &p, &changed, err, &commit), CT_EOK, "the same check again");
	ok(!changed && history_count() == hc + 1, "the same check: unchanged");
	p.check.fall = 9;
	put("chk.pools.test", &p, &changed, err, &commit);
	ok(changed && history_count() == hc + 2, "another fall: changed");
	p.flags |= CT_POOL_ALLDOWN_NODATA;
	put("chk.pools.test", &p, &changed, err, &commit);
	ok(changed && history_count() == hc + 3, "all-down nodata: changed");
	wire("chk.pools.test", o);
	ct_txn_begin(&st, &txn, false);
	ok(ct_pool_get(&txn, o, CT_TYPE_A, &q) == CT_EOK && q.check.fall == 9 &&
	       q.check.kind == CT_CHECK_HTTP && (q.flags & CT_POOL_ALLDOWN_NODATA),
	   "get returns the check and the flag");
	ct_txn_abort(&txn);
	p.check.timeout_ms = 10000;
	put_refused("chk.pools.test", &p, CT_EINVAL, "check timeout 10000 ms",
	            "a put with a bad check");
}

static uint64_t seqs[64];
static int nseqs;

static bool collect_seq(const ct_history_t *h, void *arg)
{
	seqs[nseqs++] = h->seq;
	return nseqs < 64;
}

static void test_history_and_import(void)
{
	static ct_pool_t p;
	char err[512];
	bool changed;
	int commit;
	ct_txn_t txn;
	nseqs = 0;
	ct_txn_begin(&st, &txn, false);
	ct_history_foreach(&txn, NULL, 0, collect_seq, NULL);
	ct_txn_abort(&txn);
	bool newest_first = nseqs > 2;
	for (int i = 1; i < nseqs; i++) {
		newest_first &= seqs[i] + 1 == seqs[i - 1];
	}
	ok(newest_first && (uint64_t)nseqs == history_count(),
	   "foreach walks every entry, newest first (%d)", nseqs);

	/* a zone import keeps the pools and writes their markers again */
	make_pool(&p, CT_TYPE_A);
	is_int(put("kept.pools.test", &p, &changed, err, &commit), CT_EOK, "pool at kept: %s", err);
	uint32_t s = serial();
	is_int(import_text(zone_text), CT_EOK, "re-import the zone");
	ok(serial() > s, "the import raised the serial");
	ok(marker("kept.pools.test", CT_TYPE_A, CT_POOLREF_ALL) &&
	       marker("green.kept.pools.test", CT_TYPE_A, 1),
	   "the pool's markers are back after the import");
	char clash[sizeof(zone_text) + 64];
	snprintf(clash, sizeof(clash), "%skept A 192.0.2.99\n", zone_text);
	ok(import_text(clash) != CT_EOK, "an import with a static A at a pool's name fails");
	ok(marker("kept.pools.test", CT_TYPE_A, CT_POOLREF_ALL), "and leaves the pool as it was");
	snprintf(clash, sizeof(clash), "%sblue.kept TXT \"x\"\n", zone_text);
	ok(import_text(clash) != CT_EOK, "an import with a record at a preview name fails");
}

int main(void)
{
	strcpy(tmp, "/tmp/ct-pool-XXXXXX");
	if (mkdtemp(tmp) == NULL || chdir(tmp) != 0) {
		perror(tmp);
		return 1;
	}
	ct_log_set_level(CT_LOG_ERR);
	test_codec();
	test_check_codec();
	test_check();

	ct_store_opts_t opts = { .create = true };
	if (ct_store_open(&st, "db", &opts) != CT_EOK) {
		diag("%s", ct_store_last_error());
		return 1;
	}
	wire("pools.test.", apex);
	apex_len = ct_dname_key(apex, apex_key);
	test_put();
	test_history_and_import();
	ct_store_close(&st);

	if (chdir("/") == 0) {
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	done_testing();
	return exit_status();
}
