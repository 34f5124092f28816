/* SPDX-License-Identifier: MIT */
/* Unit tests: zone file reading, the zone checks with their messages, import, export. */
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/zonefile.h"
#include "cutover/pool.h"
#include "tap.h"

#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Five lines every rejected case starts from: its own lines are 6 and on. */
#define HEAD                                                                                       \
	"$ORIGIN app.example.\n"                                                                   \
	"$TTL 300\n"                                                                               \
	"@ SOA ns1 hostmaster 1 3600 600 86400 60\n"                                               \
	"@ NS ns1\n"                                                                               \
	"ns1 A 192.0.2.1\n"

static char tmp[64];             /* the test's directory, also its working directory */
static char data[PATH_MAX];      /* tests/unit/data, absolute */
static char zones_dir[PATH_MAX]; /* the repository's zones/, absolute */
static int db_seq;

/* Messages collected from the reader. */
typedef struct {
	char text[32][600];
	int prio[32];
	int n, errors, warnings;
} sink_t;

static void collect(void *ctx, int prio, const char *msg)
{
	sink_t *s = ctx;
	if (s->n < 32) {
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", msg);
		s->prio[s->n++] = prio;
	}
	if (prio == CT_LOG_ERR) {
		s->errors++;
	} else {
		s->warnings++;
	}
}

static const char *first_error(const sink_t *s)
{
	for (int i = 0; i < s->n; i++) {
		if (s->prio[i] == CT_LOG_ERR) {
			return s->text[i];
		}
	}
	return "(no error)";
}

static void show(const sink_t *s)
{
	for (int i = 0; i < s->n; i++) {
		diag("  message: %s", s->text[i]);
	}
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");
	if (f == NULL) {
		diag("cannot write %s", name);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Parse and validate path; messages go to s. */
static int load(ct_zonefile_t *zf, const char *path, const char *origin, sink_t *s)
{
	memset(s, 0, sizeof(*s));
	ct_zonefile_init(zf, collect, s);
	int ret = ct_zonefile_parse(zf, path, origin);
	if (ret == CT_EOK) {
		ret = ct_zonefile_validate(zf);
	}
	return ret;
}

/* A zone file that must be refused with exactly this first message. */
static void reject(const char *name, const char *text, const char *origin, const char *want)
{
	ct_zonefile_t zf;
	sink_t s;
	write_file(name, text);
	int ret = load(&zf, name, origin, &s);
	ok(ret == CT_EZONE && !zf.validated, "%s refused", name);
	is_str(first_error(&s), want, "%s: message", name);
	ct_zonefile_deinit(&zf);
}

/* A zone file that must be accepted without any message. */
static void accept(const char *name, const char *text)
{
	ct_zonefile_t zf;
	sink_t s;
	write_file(name, text);
	int ret = load(&zf, name, NULL, &s);
	if (!ok(ret == CT_EOK && s.n == 0, "%s accepted", name)) {
		show(&s);
	}
	ct_zonefile_deinit(&zf);
}

static const ct_zonefile_rr_t *find_rr(const ct_zonefile_t *zf, const char *owner, uint16_t type)
{
	uint8_t name[CT_DNAME_MAXLEN];
	ct_zonefile_parse_name(owner, name);
	for (size_t i = 0; i < zf->count; i++) {
		if (zf->rr[i].type == type && ct_dname_eq(zf->rr[i].owner, name)) {
			return &zf->rr[i];
		}
	}
	return NULL;
}

static size_t wire_of(const char *text, uint8_t *out)
{
	int n = ct_zonefile_parse_name(text, out);
	return n < 0 ? 0 : (size_t)n;
}

static int open_db(ct_store_t *st, size_t map_size)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/db%d", tmp, ++db_seq);
	ct_store_opts_t opts = { .create = true, .map_size = map_size };
	int ret = ct_store_open(st, path, &opts);
	if (ret != CT_EOK) {
		diag("%s", ct_store_last_error());
	}
	return ret;
}

static int import(ct_store_t *st, ct_zonefile_t *zf)
{
	ct_txn_t txn;
	ct_txn_begin(st, &txn, true);
	ct_zonefile_write(zf, &txn);
	return ct_txn_commit(&txn);
}

/* Parse, validate and import path into st; CT_EOK or the first failure. */
static int import_file(ct_store_t *st, const char *path, ct_zonefile_t *zf, sink_t *s)
{
	int ret = load(zf, path, NULL, s);
	return ret == CT_EOK ? import(st, zf) : ret;
}

/* Copy of one stored rrset value; its length, or 0 when missing. */
static size_t get_rrset(ct_store_t *st, const char *apex, const char *owner, uint16_t type,
                        uint8_t *out, size_t size)
{
	uint8_t a[CT_DNAME_MAXLEN], o[CT_DNAME_MAXLEN], ak[CT_KEY_MAXLEN], ok_[CT_KEY_MAXLEN];
	uint8_t key[CT_RR_KEY_MAXLEN];
	wire_of(apex, a);
	wire_of(owner, o);
	size_t al = ct_dname_key(a, ak), ol = ct_dname_key(o, ok_);
	ct_txn_t txn;
	MDB_val v;
	size_t n = 0;
	ct_txn_begin(st, &txn, false);
	if (ct_txn_get(&txn, st->rrsets, key, ct_rr_key(key, ok_, ol, al, type), &v) &&
	    v.mv_size <= size) {
		memcpy(out, v.mv_data, v.mv_size);
		n = v.mv_size;
	}
	ct_txn_abort(&txn);
	return n;
}

static bool get_zone_w(ct_store_t *st, const uint8_t *apex, ct_zone_t *zone)
{
	uint8_t ak[CT_KEY_MAXLEN];
	size_t al = ct_dname_key(apex, ak);
	ct_txn_t txn;
	MDB_val v;
	ct_txn_begin(st, &txn, false);
	bool found = ct_txn_get(&txn, st->zones, ak, al, &v) && ct_zone_parse(&v, zone) == CT_EOK;
	ct_txn_abort(&txn);
	return found;
}

static bool get_zone(ct_store_t *st, const char *apex, ct_zone_t *zone)
{
	uint8_t a[CT_DNAME_MAXLEN];
	wire_of(apex, a);
	return get_zone_w(st, a, zone);
}

/* The serial inside the stored SOA rdata. */
static uint32_t stored_soa_serial(ct_store_t *st, const char *apex)
{
	uint8_t buf[1024];
	size_t n = get_rrset(st, apex, apex, 6, buf, sizeof(buf));
	if (n < 7 + 2 + 20) {
		return 0;
	}
	return ct_get32(buf + n - 20);
}

/* Every rrsets entry of the zone, keys and values, as one byte string (malloc'd). */
static uint8_t *dump_zone(ct_store_t *st, const uint8_t *apex, size_t *len)
{
	uint8_t prefix[CT_KEY_MAXLEN + 1];
	size_t plen = ct_dname_key(apex, prefix);
	prefix[plen++] = 0;
	ct_txn_t txn;
	MDB_val k, v;
	uint8_t *out = NULL;
	*len = 0;
	ct_txn_begin(st, &txn, false);
	for (bool f = ct_txn_seek(&txn, st->rrsets, prefix, plen, &k, &v);
	     f && ct_key_has_prefix(&k, prefix, plen); f = ct_txn_next(&txn, st->rrsets, &k, &v)) {
		out = realloc(out, *len + k.mv_size + v.mv_size + 8);
		ct_put32(out + *len, (uint32_t)k.mv_size);
		memcpy(out + *len + 4, k.mv_data, k.mv_size);
		*len += 4 + k.mv_size;
		ct_put32(out + *len, (uint32_t)v.mv_size);
		memcpy(out + *len + 4, v.mv_data, v.mv_size);
		*len += 4 + v.mv_size;
	}
	ct_txn_abort(&txn);
	return out;
}

static int export_to(ct_store_t *st, const uint8_t *apex, const char *path)
{
	FILE *f = fopen(path, "w");
	ct_txn_t txn;
	ct_txn_begin(st, &txn, false);
	int ret = ct_zonefile_export(&txn, apex, f);
	ct_txn_abort(&txn);
	fclose(f);
	return ret;
}

/* Import path, export it, import the export into a fresh store: the same bytes. */
static void round_trip(const char *path, const char *label)
{
	ct_store_t a, b;
	ct_zonefile_t zf, back;
	sink_t s;
	char out[128];
	snprintf(out, sizeof(out), "%s/export%d.zone", tmp, db_seq);
	open_db(&a, 0);
	open_db(&b, 0);
	int ret = import_file(&a, path, &zf, &s);
	if (!ok(ret == CT_EOK, "%s: imports", label)) {
		show(&s);
		goto out;
	}
	is_int(export_to(&a, zf.apex, out), CT_EOK, "%s: exports", label);
	ret = import_file(&b, out, &back, &s);
	if (!ok(ret == CT_EOK && s.n == 0, "%s: the export imports cleanly", label)) {
		show(&s);
	}
	size_t la, lb;
	uint8_t *da = dump_zone(&a, zf.apex, &la), *db = dump_zone(&b, zf.apex, &lb);
	ok(la > 0 && la == lb && memcmp(da, db, la) == 0, "%s: same records after the round trip",
	   label);
	free(da);
	free(db);
	ct_zone_t za, zb;
	ok(get_zone_w(&a, zf.apex, &za) && get_zone_w(&b, zf.apex, &zb) && za.serial == zb.serial &&
	       ct_dname_len(za.apex) == ct_dname_len(zb.apex) &&
	       memcmp(za.apex, zb.apex, ct_dname_len(za.apex)) == 0,
	   "%s: same zones entry (serial, apex)", label);
	ct_zonefile_deinit(&back);
out:
	ct_zonefile_deinit(&zf);
	ct_store_close(&a);
	ct_store_close(&b);
}

/* Each refused zone file and its first message, exactly as people see it. */
static const struct {
	const char *file, *text, *origin, *want;
} rejects[] = {
	{ "nosoa.zone", "$ORIGIN app.example.\n$TTL 300\n@ NS ns1\n", NULL,
	  "nosoa.zone: no SOA record, so the zone apex is unknown; add an SOA record at the "
	  "apex (a zone has exactly one)" },
	{ "two-soa.zone", HEAD "@ SOA ns1 hostmaster 2 3600 600 86400 60\n", NULL,
	  "two-soa.zone:6: second SOA record for app.example. (the first is at line 3); a "
	  "zone has exactly one" },
	{ "soa-below.zone", HEAD "www SOA ns1 hostmaster 2 3600 600 86400 60\n", NULL,
	  "soa-below.zone:6: SOA at www.app.example. is not at the zone apex app.example." },
	{ "nons.zone",
	  "$ORIGIN app.example.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
	  "ns1 A 192.0.2.1\n",
	  NULL,
	  "nons.zone:3: no NS record at the zone apex app.example.; add the zone's name "
	  "servers" },
	{ "cname-apex.zone", HEAD "@ CNAME www\n", NULL,
	  "cname-apex.zone:6: CNAME at the apex app.example. is not allowed; the apex holds "
	  "the SOA and NS records" },
	{ "cname.zone", HEAD "www A 192.0.2.2\nwww CNAME ns1\n", NULL,
	  "cname.zone:7: CNAME at www.app.example. must be the only record there (there is "
	  "also A at line 6)" },
	{ "cname2.zone", HEAD "www CNAME ns1\nwww CNAME ns2\n", NULL,
	  "cname2.zone:6: CNAME at www.app.example. must be the only record there (there is "
	  "also CNAME at line 7)" },
	{ "outside.zone", HEAD "www.other.example. A 192.0.2.2\n", NULL,
	  "outside.zone:6: www.other.example. is outside the zone app.example." },
	{ "below-cut.zone", HEAD "sub NS ns.sub\nns.sub A 192.0.2.53\nx.sub TXT hi\n", NULL,
	  "below-cut.zone:8: TXT at x.sub.app.example. is below the delegation to "
	  "sub.app.example. (NS at line 6); only glue A/AAAA records may be there" },
	{ "nested-cut.zone", HEAD "sub NS ns.sub\ndeep.sub NS ns1\n", NULL,
	  "nested-cut.zone:7: NS at deep.sub.app.example. is below the delegation to "
	  "sub.app.example. (NS at line 6); only glue A/AAAA records may be there" },
	{ "at-cut.zone", HEAD "sub NS ns1\nsub MX 10 ns1\n", NULL,
	  "at-cut.zone:7: MX at sub.app.example. is at a delegation (NS at line 6); only NS, "
	  "DS and glue A/AAAA records may be there" },
	{ "class.zone", HEAD "www CH TXT hi\n", NULL,
	  "class.zone:6: class CH is not supported; Cutover serves class IN only" },
	{ "ttl-max.zone", HEAD "www 2147483648 A 192.0.2.2\n", NULL,
	  "ttl-max.zone:6: TTL 2147483648 is above the maximum of 2147483647 seconds "
	  "(RFC 2181 8)" },
	{ "ttl-bad.zone", HEAD "www 12x A 192.0.2.2\n", NULL,
	  "ttl-bad.zone:6: bad TTL '12x'; write seconds (3600) or units (1h30m)" },
	{ "ttl-dir.zone", HEAD "$TTL forever\n", NULL,
	  "ttl-dir.zone:6: bad TTL 'forever'; write seconds (3600) or units (1h30m)" },
	{ "ttl-none.zone", "$ORIGIN app.example.\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n", NULL,
	  "ttl-none.zone:2: record has no TTL and no $TTL comes before it; add e.g. "
	  "'$TTL 3600' at the top of the file" },
	{ "relative.zone",
	  "$TTL 300\napp.example. SOA ns1.app.example. h.app.example. 1 3600 600 86400 60\n"
	  "app.example. NS ns1.app.example.\nwww A 192.0.2.2\n",
	  NULL,
	  "relative.zone:4: relative name 'www' but no origin is known; put $ORIGIN before "
	  "it or give the origin (--origin)" },
	{ "relative-rdata.zone",
	  "$TTL 300\napp.example. SOA ns1.app.example. h.app.example. 1 3600 600 86400 60\n"
	  "app.example. NS ns1\n",
	  NULL,
	  "relative-rdata.zone:3: relative name 'ns1' but no origin is known; put $ORIGIN "
	  "before it or give the origin (--origin)" },
	{ "relative-origin.zone", "$ORIGIN sub\n", NULL,
	  "relative-origin.zone:1: $ORIGIN 'sub' is relative but no origin is known; end it "
	  "with a dot" },
	{ "type.zone", HEAD "www BOGUS 1\n", NULL,
	  "type.zone:6: unknown record type 'BOGUS'; write other types as TYPEnnn with "
	  "RFC 3597 rdata (\\# length hex)" },
	{ "meta.zone", HEAD "www ANY 1\n", NULL,
	  "meta.zone:6: type ANY is a query or meta type and cannot be in a zone "
	  "(RFC 6895 3.1)" },
	{ "syntax.zone", HEAD "www A 192.0.2\n", NULL,
	  "syntax.zone:6: cannot parse 'www A 192.0.2': Syntax error, could not parse the "
	  "RR's rdata" },
	{ "directive.zone", HEAD "$GENERATE 1-9 h$ A 192.0.2.$\n", NULL,
	  "directive.zone:6: unknown directive '$GENERATE'; Cutover reads $ORIGIN, $TTL and "
	  "$INCLUDE" },
	{ "paren.zone", HEAD "www TXT ( \"a\"\n\"b\"\n", NULL,
	  "paren.zone:6: '(' is not closed before the end of the file" },
	{ "close.zone", HEAD "www TXT \"a\" )\n", NULL, "close.zone:6: ')' without '(' before it" },
	{ "quote.zone", HEAD "www TXT \"a\nns2 A 192.0.2.2\n", NULL,
	  "quote.zone:6: quoted string is not closed on its line" },
	{ "blank.zone", "$TTL 300\n\tA 192.0.2.1\n", NULL,
	  "blank.zone:2: record without an owner name (the line starts with a blank) and no "
	  "record before it to take the owner from" },
	{ "include-missing.zone", HEAD "$INCLUDE nothere.zone\n", NULL,
	  "include-missing.zone:6: $INCLUDE nothere.zone: cannot read it: No such file or "
	  "directory" },
	{ "empty.zone", "", "app.example.",
	  "empty.zone: no SOA and NS records at the zone apex app.example.; add them" },
	{ "comments.zone", "; nothing but a comment\n\n", NULL,
	  "comments.zone: no SOA record, so the zone apex is unknown; add an SOA record at "
	  "the apex (a zone has exactly one)" },
	{ "wrong-origin.zone", HEAD, "other.example.",
	  "wrong-origin.zone:3: app.example. is outside the zone other.example." },
	/* ldns read TYPE0 there, which was imported and exported as a line that does not
	 * import back (found by tests/fuzz/zonefile) */
	{ "vtab.zone", HEAD "@ 3600 IN NS\vns2\n", NULL,
	  "vtab.zone:6: cannot parse '@ 3600 IN NS ns2': separate the fields with spaces or "
	  "tabs, not vertical tabs or form feeds" },
};

static void test_rejects(void)
{
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		reject(rejects[i].file, rejects[i].text, rejects[i].origin, rejects[i].want);
	}

	/* what is allowed next to those */
	accept("glue.zone", HEAD "sub NS ns.sub\nsub NS ns1\nns.sub A 192.0.2.53\n"
	                         "ns.sub AAAA 2001:db8::53\nsub DS 1 13 2 abcd\n");
	accept("cname-ok.zone", HEAD "www CNAME ns1\nmail CNAME www\n");

	ct_zonefile_t zf;
	sink_t s;
	is_int(load(&zf, "nothere.zone", NULL, &s), -ENOENT, "missing file: -ENOENT");
	is_str(first_error(&s),
	       "nothere.zone: cannot read the zone file: No such file or directory",
	       "missing file: message");
	ct_zonefile_deinit(&zf);

	/* several problems are all reported, and counted */
	write_file("many.zone", HEAD "www CH A 1.2.3.4\nx 99999999999 A 1.2.3.4\ny BOGUS 1\n");
	is_int(load(&zf, "many.zone", NULL, &s), CT_EZONE, "several errors");
	is_int(s.errors, 3, "all three reported");
	is_int(zf.errors, 3, "and counted");
	ct_zonefile_deinit(&zf);
}

static void test_ttl_and_duplicates(void)
{
	ct_zonefile_t zf;
	sink_t s;
	write_file("ttl.zone", HEAD "www 600 A 192.0.2.2\nwww 60 A 192.0.2.3\nwww A 192.0.2.2\n"
	                            "dup A 192.0.2.9\ndup A 192.0.2.9\n");
	is_int(load(&zf, "ttl.zone", NULL, &s), CT_EOK, "differing TTLs are accepted");
	is_int(s.warnings, 1, "with one warning for the set");
	is_str(s.text[0],
	       "ttl.zone:7: TTL 60 of www.app.example. A differs from TTL 600 at line 6; the "
	       "whole set gets 60 (RFC 2181 5.2)",
	       "warning text");
	const ct_zonefile_rr_t *rr = find_rr(&zf, "www.app.example.", 1);
	ok(rr != NULL && rr->ttl == 60, "the set has the lowest TTL");
	size_t www = 0, dup = 0;
	for (size_t i = 0; i < zf.count; i++) {
		www += zf.rr[i].type == 1 && zf.rr[i].owner[1] == 'w';
		dup += zf.rr[i].type == 1 && zf.rr[i].owner[1] == 'd';
	}
	is_int(www, 2, "repeated www record merged (RFC 2181 5)");
	is_int(dup, 1, "identical dup records merged silently");
	is_int(zf.rrsets, 5, "sets: SOA, NS, ns1 A, www A, dup A");
	ct_zonefile_deinit(&zf);
}

static void test_names(void)
{
	ct_zonefile_t zf;
	sink_t s;
	char path[PATH_MAX + 32];
	uint8_t w[CT_DNAME_MAXLEN];
	snprintf(path, sizeof(path), "%s/names.zone", data);
	int ret = load(&zf, path, NULL, &s);
	if (!ok(ret == CT_EOK && s.n == 0, "names.zone reads cleanly")) {
		show(&s);
	}
	size_t n = wire_of("Example.COM.", w);
	is_mem(zf.apex, ct_dname_len(zf.apex), w, n, "apex from the SOA owner, letter case kept");
	const ct_zonefile_rr_t *rr = find_rr(&zf, "ns1.example.com.", 1);
	ok(rr != NULL && rr->ttl == 3600, "$TTL 1h applies");
	ok(rr != NULL && rr->line == 8, "line of the record: %d", rr ? rr->line : 0);
	rr = find_rr(&zf, "example.com.", 6);
	ok(rr != NULL && rr->line == 4, "a record over several lines has its first line");
	rr = find_rr(&zf, "www.sub.example.com.", 1);
	ok(rr != NULL && rr->ttl == 30, "relative $ORIGIN sub: www.sub.example.com., TTL 30");
	rr = find_rr(&zf, "mail.sub.example.com.", 15);
	n = wire_of("www.sub.Example.COM.", w);
	ok(rr != NULL && rr->ttl == 120 && rr->rdlen == 2 + n && memcmp(rr->rdata + 2, w, n) == 0,
	   "MX target relative to $ORIGIN, letter case as written, new $TTL");
	ok(find_rr(&zf, "blank-owner.example.com.", 28) != NULL, "blank owner takes the previous");
	rr = find_rr(&zf, "txt.example.com.", 16);
	ok(rr != NULL && rr->ttl == 60 && rr->rdlen == 17 + 11 + 8 &&
	       memcmp(rr->rdata + 28, "\x07paren (", 8) == 0,
	   "class before TTL; ';' and '(' inside quotes are text");
	rr = find_rr(&zf, "ptr.example.com.", 12);
	n = wire_of("example.com.", w);
	ok(rr != NULL && rr->rdlen == n && memcmp(rr->rdata, w, n) == 0, "@ in rdata is $ORIGIN");
	ct_zonefile_deinit(&zf);

	/* --origin: relative names without $ORIGIN, and the apex */
	write_file("origin.zone", "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\n"
	                          "ns1 A 192.0.2.1\n");
	ret = load(&zf, "origin.zone", "App.Example", &s);
	ok(ret == CT_EOK && find_rr(&zf, "ns1.app.example.", 1) != NULL,
	   "--origin completes relative names");
	n = wire_of("App.Example.", w);
	is_mem(zf.apex, ct_dname_len(zf.apex), w, n, "apex from --origin");
	ct_zonefile_deinit(&zf);
	ct_zonefile_init(&zf, collect, &s);
	memset(&s, 0, sizeof(s));
	is_int(ct_zonefile_parse(&zf, "origin.zone", "a..b"), CT_EZONE, "bad --origin refused");
	is_str(first_error(&s), "origin 'a..b' is not a valid domain name", "bad --origin message");
	ct_zonefile_deinit(&zf);

	is_int(ct_zonefile_parse_name("app.example", w), 13, "parse_name adds the root");
	is_int(ct_zonefile_parse_name("", w), CT_EMALF, "parse_name refuses ''");
	is_int(ct_zonefile_parse_name("a..b", w), CT_EMALF, "parse_name refuses a..b");
}

static void test_types(void)
{
	ct_zonefile_t zf;
	sink_t s;
	char path[PATH_MAX + 32];
	uint8_t w[CT_DNAME_MAXLEN];
	snprintf(path, sizeof(path), "%s/types.zone", data);
	int ret = load(&zf, path, NULL, &s);
	if (!ok(ret == CT_EOK && s.n == 0, "types.zone reads cleanly")) {
		show(&s);
	}
	is_int(zf.count, 28, "every record read");
	const ct_zonefile_rr_t *rr = find_rr(&zf, "unknown.types.example.", 65534);
	ok(rr != NULL && rr->rdlen == 3 && memcmp(rr->rdata, "\xab\xcd\xef", 3) == 0,
	   "RFC 3597 TYPE65534 \\# 3 abcdef");
	rr = find_rr(&zf, "empty.types.example.", 65280);
	ok(rr != NULL && rr->rdlen == 0, "RFC 3597 empty rdata");
	rr = find_rr(&zf, "generic-a.types.example.", 1);
	ok(rr != NULL && rr->rdlen == 4 && memcmp(rr->rdata, "\xc0\x00\x02\x02", 4) == 0,
	   "RFC 3597 form of a known type");
	rr = find_rr(&zf, "www.types.example.", 5);
	size_t n = wire_of("Web.Types.Example.", w);
	ok(rr != NULL && rr->rdlen == n && memcmp(rr->rdata, w, n) == 0,
	   "CNAME target uncompressed, letter case kept");
	ok(find_rr(&zf, "_sip._tcp.types.example.", 33) && find_rr(&zf, "types.example.", 257) &&
	       find_rr(&zf, "1.2.0.192.types.example.", 12) &&
	       find_rr(&zf, "*.wild.types.example.", 1) &&
	       find_rr(&zf, "ds-here.types.example.", 43),
	   "SRV, CAA, PTR, wildcard, DS at a delegation");
	ct_zonefile_deinit(&zf);

	ct_store_t st;
	open_db(&st, 0);
	ret = import_file(&st, path, &zf, &s);
	is_int(ret, CT_EOK, "types.zone imports");
	char out[128];
	snprintf(out, sizeof(out), "%s/types-export.zone", tmp);
	export_to(&st, zf.apex, out);
	FILE *f = fopen(out, "r");
	char line[512], lines[4][512] = { { 0 } };
	bool generic = false;
	for (int i = 0; f != NULL && fgets(line, sizeof(line), f) != NULL; i++) {
		if (i < 4) {
			strcpy(lines[i], line);
		}
		generic =
		    generic || strcmp(line, "unknown\t300\tIN\tTYPE65534\t\\# 3 abcdef\n") == 0;
	}
	if (f != NULL) {
		fclose(f);
	}
	is_str(lines[1], "$ORIGIN types.example.\n", "export: $ORIGIN");
	is_str(lines[2],
	       "@\t300\tIN\tSOA\tns1.types.example. hostmaster.types.example. 2024010101 3600 "
	       "600 86400 60\n",
	       "export: SOA first");
	is_str(lines[3], "@\t300\tIN\tNS\tns1.types.example.\n", "export: then the apex NS");
	ok(generic, "export: unknown type in RFC 3597 form");
	uint8_t apex[CT_DNAME_MAXLEN];
	wire_of("nothere.example.", apex);
	ct_txn_t txn;
	ct_txn_begin(&st, &txn, false);
	is_int(ct_zonefile_export(&txn, apex, stdout), CT_ENOZONE, "export of a missing zone");
	ct_txn_abort(&txn);
	ct_zonefile_deinit(&zf);
	ct_store_close(&st);
}

static void test_include(void)
{
	ct_zonefile_t zf;
	sink_t s;
	char path[PATH_MAX + 32], want[2 * PATH_MAX + 200];

	snprintf(path, sizeof(path), "%s/inc/main.zone", data);
	int ret = load(&zf, path, NULL, &s);
	if (!ok(ret == CT_EOK && s.n == 0, "inc/main.zone with nested $INCLUDEs reads cleanly")) {
		show(&s);
	}
	is_int(zf.nfiles, 4, "four files read");
	const ct_zonefile_rr_t *rr = find_rr(&zf, "ns1.app.example.", 1);
	snprintf(want, sizeof(want), "%s/inc/sub/hosts.zone", data);
	ok(rr != NULL && strcmp(zf.files[rr->file], want) == 0 && rr->line == 2,
	   "record from sub/hosts.zone knows its file and line");
	ok(find_rr(&zf, "deep.app.example.", 1) != NULL, "sub/more.zone: path relative to sub/");
	rr = find_rr(&zf, "x.deep.app.example.", 1);
	ok(rr != NULL && rr->ttl == 77, "$TTL inside the included file");
	rr = find_rr(&zf, "www.app.example.", 1);
	ok(rr != NULL && rr->ttl == 300, "$ORIGIN and $TTL of an included file end with it");
	ok(find_rr(&zf, "other.app.example.", 1) && find_rr(&zf, "x.other.app.example.", 1),
	   "$INCLUDE file origin");
	ok(find_rr(&zf, "after.app.example.", 1) != NULL, "origin restored after $INCLUDE");
	ct_zonefile_deinit(&zf);

	snprintf(path, sizeof(path), "%s/inc/bad-main.zone", data);
	is_int(load(&zf, path, NULL, &s), CT_EZONE, "error in an included file");
	snprintf(want, sizeof(want),
	         "%s/inc/sub/bad.zone:2: cannot parse 'www A 192.0.2.300': Syntax error, could "
	         "not parse the RR's rdata",
	         data);
	is_str(first_error(&s), want, "the message names the included file and its line");
	ct_zonefile_deinit(&zf);

	snprintf(path, sizeof(path), "%s/loop/a.zone", data);
	is_int(load(&zf, path, NULL, &s), CT_EZONE, "include loop a -> b -> a");
	snprintf(want, sizeof(want),
	         "%s/loop/b.zone:2: $INCLUDE %s/loop/a.zone: include loop, that file is already "
	         "being read",
	         data, data);
	is_str(first_error(&s), want, "include loop message");
	ct_zonefile_deinit(&zf);
	snprintf(path, sizeof(path), "%s/loop/self.zone", data);
	is_int(load(&zf, path, NULL, &s), CT_EZONE, "a file including itself");
	ct_zonefile_deinit(&zf);

	/* depth: d0 includes d1 ... includes dN */
	for (int depth = CT_ZONEFILE_MAXDEPTH; depth <= CT_ZONEFILE_MAXDEPTH + 1; depth++) {
		for (int i = 0; i <= depth; i++) {
			char name[32], inc[32] = "", text[256];
			snprintf(name, sizeof(name), "d%d.zone", i);
			if (i < depth) {
				snprintf(inc, sizeof(inc), "$INCLUDE d%d.zone\n", i + 1);
			}
			snprintf(text, sizeof(text), "%sh%d A 192.0.2.%d\n%s", i == 0 ? HEAD : "",
			         i, i + 1, inc);
			write_file(name, text);
		}
		ret = load(&zf, "d0.zone", NULL, &s);
		if (depth == CT_ZONEFILE_MAXDEPTH) {
			ok(ret == CT_EOK && zf.nfiles == (size_t)depth + 1,
			   "includes %d deep are read", depth);
		} else {
			is_int(ret, CT_EZONE, "includes %d deep are refused", depth);
			is_str(first_error(&s),
			       "d8.zone:2: $INCLUDE d9.zone: includes nest deeper than 8 files",
			       "depth message");
		}
		ct_zonefile_deinit(&zf);
	}
}

static void test_import(void)
{
	ct_store_t st;
	ct_zonefile_t zf;
	sink_t s;
	uint8_t buf[1024], w[CT_DNAME_MAXLEN];
	ct_zone_t zone;
	open_db(&st, 0);

	write_file("v1.zone", "$ORIGIN App.Example.\n$TTL 300\n"
	                      "@ SOA ns1 hostmaster 10 3600 600 86400 60\n@ NS ns1\n"
	                      "ns1 A 192.0.2.1\nold A 192.0.2.2\nwww 60 CNAME Ns1.App.Example.\n");
	is_int(import_file(&st, "v1.zone", &zf, &s), CT_EOK, "v1 imported");
	ok(!zf.replaced && zf.serial == 10, "new zone: the file's serial");
	ct_zonefile_deinit(&zf);
	ok(get_zone(&st, "app.example.", &zone) && zone.serial == 10, "zones entry serial");
	size_t n = wire_of("App.Example.", w);
	is_mem(zone.apex, ct_dname_len(zone.apex), w, n,
	       "zones entry apex, letter case as in file");
	size_t len = get_rrset(&st, "app.example.", "www.app.example.", 5, buf, sizeof(buf));
	n = wire_of("Ns1.App.Example.", w);
	ok(len == 7 + 2 + n && ct_get32(buf + 1) == 60 && ct_get16(buf + 5) == 1 &&
	       memcmp(buf + 9, w, n) == 0,
	   "CNAME stored: TTL, one rdata, target uncompressed with its case");

	/* a pool under the zone must survive a re-import */
	uint8_t ak[CT_KEY_MAXLEN], okey[CT_KEY_MAXLEN], pk[CT_RR_KEY_MAXLEN];
	wire_of("app.example.", w);
	size_t al = ct_dname_key(w, ak);
	wire_of("api.app.example.", w);
	size_t ol = ct_dname_key(w, okey);
	size_t pl = ct_rr_key(pk, okey, ol, al, 1);
	ct_txn_t txn;
	static ct_pool_t pool = { .type = 1, .ttl = 30, .ngroups = 1,
				  .groups = { { .name = "blue", .weight = 1, .ntargets = 1,
						.targets = { { 192, 0, 2, 7 } } } } };
	bool changed;
	char perr[256] = ""; /* printed below even when ct_pool_put succeeds */
	ct_txn_begin(&st, &txn, true);
	is_int(ct_pool_put(&txn, w, &pool, "test", "pool set", &changed, perr, sizeof(perr)),
	       CT_EOK, "a pool at api.app.example. %s", perr);
	is_int(ct_txn_commit(&txn), CT_EOK, "pool committed");

	write_file("v2.zone", "$ORIGIN app.example.\n$TTL 300\n"
	                      "@ SOA ns1 hostmaster 10 3600 600 86400 60\n@ NS ns1\n"
	                      "ns1 A 192.0.2.1\nnew A 192.0.2.3\n");
	is_int(import_file(&st, "v2.zone", &zf, &s), CT_EOK, "v2 imported over v1");
	/* the pool bumped 10 to 11; the file says 10 again */
	ok(zf.replaced && zf.old_serial == 11 && zf.serial == 12,
	   "older serial in the file: stored + 1 (got %u)", zf.serial);
	ct_zonefile_deinit(&zf);
	is_int(stored_soa_serial(&st, "app.example."), 12, "SOA rdata has the bumped serial");
	ok(get_zone(&st, "app.example.", &zone) && zone.serial == 12, "zones entry too");
	is_int(get_rrset(&st, "app.example.", "old.app.example.", 1, buf, sizeof(buf)), 0,
	       "records gone from the file are gone");
	ok(get_rrset(&st, "app.example.", "new.app.example.", 1, buf, sizeof(buf)) > 0,
	   "new records are there");
	ct_txn_begin(&st, &txn, false);
	MDB_val v;
	ok(ct_txn_get(&txn, st.pools, pk, pl, &v), "the zone's pools are kept");
	ct_txn_abort(&txn);
	len = get_rrset(&st, "app.example.", "api.app.example.", 1, buf, sizeof(buf));
	ok(len > 0 && buf[0] == CT_VALUE_POOLREF, "the pool's marker is written again");
	len = get_rrset(&st, "app.example.", "blue.api.app.example.", 1, buf, sizeof(buf));
	ok(len > 0 && buf[0] == CT_VALUE_POOLREF && buf[1] == 0, "and its preview marker");
	ct_txn_begin(&st, &txn, false);
	FILE *ex = tmpfile();
	is_int(ct_zonefile_export(&txn, (const uint8_t *)"\x03" "app" "\x07" "example", ex), CT_EOK,
	       "export with a pool");
	ct_txn_abort(&txn);
	char exported[4096] = "";
	rewind(ex);
	exported[fread(exported, 1, sizeof(exported) - 1, ex)] = '\0';
	fclose(ex);
	ok(strstr(exported, "api") == NULL, "export leaves pools out");

	/* static records that clash with the pool: the import is refused whole */
	write_file("clash.zone", "$ORIGIN app.example.\n$TTL 300\n"
				 "@ SOA ns1 hostmaster 10 3600 600 86400 60\n@ NS ns1\n"
				 "ns1 A 192.0.2.1\napi A 192.0.2.99\n");
	ok(import_file(&st, "clash.zone", &zf, &s) != CT_EOK, "a zone clashing with a pool fails");
	ok(strstr(first_error(&s), "api.app.example. has static A records") != NULL,
	   "the message names the clash: %s", first_error(&s));
	ct_zonefile_deinit(&zf);
	ok(get_rrset(&st, "app.example.", "new.app.example.", 1, buf, sizeof(buf)) > 0,
	   "nothing was written");

	/* serial arithmetic (RFC 1982): up by less than 2^31 is greater, even across 2^32 */
	const uint32_t steps[] = { 2000000000u, 4000000000u, 5 };
	for (size_t i = 0; i < 3; i++) {
		char text[256];
		snprintf(text, sizeof(text),
		         "$ORIGIN app.example.\n$TTL 300\n@ SOA ns1 hostmaster %u 3600 600 86400 "
		         "60\n@ NS ns1\nns1 A 192.0.2.1\n",
		         steps[i]);
		write_file("v3.zone", text);
		is_int(import_file(&st, "v3.zone", &zf, &s), CT_EOK, "serial %u imported",
		       steps[i]);
		is_int(zf.serial, steps[i], "%u is greater than the stored serial: used", steps[i]);
		ct_zonefile_deinit(&zf);
	}
	write_file("v3.zone", "$ORIGIN app.example.\n$TTL 300\n"
	                      "@ SOA ns1 hostmaster 4 3600 600 86400 60\n@ NS ns1\n"
	                      "ns1 A 192.0.2.1\n");
	is_int(import_file(&st, "v3.zone", &zf, &s), CT_EOK, "an older serial imported");
	is_int(zf.serial, 6, "4 is not greater than 5: stored + 1");
	ct_zonefile_deinit(&zf);
	write_file("v4.zone", "$ORIGIN app.example.\n$TTL 300\n"
	                      "@ SOA ns1 hostmaster 5 3600 600 86400 60\n@ NS ns1\n"
	                      "ns1 A 192.0.2.1\n");
	is_int(import_file(&st, "v4.zone", &zf, &s), CT_EOK, "v4 imported");
	is_int(zf.serial, 7, "same serial as stored: bumped");
	ct_zonefile_deinit(&zf);
	is_int(import_file(&st, "v4.zone", &zf, &s), CT_EOK, "v4 imported again");
	is_int(zf.serial, 8, "re-import of the same file bumps the serial again");
	is_int(stored_soa_serial(&st, "app.example."), 8, "and the SOA rdata");
	ct_zonefile_deinit(&zf);

	/* a zone below is a zone of its own: importing the parent leaves it alone */
	write_file("child.zone", "$ORIGIN sub.app.example.\n$TTL 300\n"
	                         "@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\n"
	                         "ns1 A 192.0.2.7\n");
	is_int(import_file(&st, "child.zone", &zf, &s), CT_EOK, "child zone imported");
	ct_zonefile_deinit(&zf);
	is_int(import_file(&st, "v4.zone", &zf, &s), CT_EOK, "parent re-imported");
	ct_zonefile_deinit(&zf);
	ok(get_rrset(&st, "sub.app.example.", "ns1.sub.app.example.", 1, buf, sizeof(buf)) > 0,
	   "the child zone's records are untouched");
	ct_store_close(&st);

	/* an unvalidated zone is not written */
	ct_zonefile_init(&zf, collect, &s);
	open_db(&st, 0);
	ct_txn_begin(&st, &txn, true);
	is_int(ct_zonefile_write(&zf, &txn), CT_EINVAL, "write needs a validated zone");
	ct_txn_abort(&txn);
	ct_store_close(&st);
	ct_zonefile_deinit(&zf);
}

static void test_full(void)
{
	ct_store_t st;
	ct_zonefile_t zf;
	sink_t s;
	if (open_db(&st, 256 * 1024) != CT_EOK) {
		ok(false, "open a 256 KiB map");
		return;
	}
	write_file("small.zone", HEAD);
	is_int(import_file(&st, "small.zone", &zf, &s), CT_EOK, "a small zone fits");
	ct_zonefile_deinit(&zf);

	FILE *f = fopen("big.zone", "w");
	fputs("$ORIGIN big.example.\n$TTL 300\n@ SOA ns1 h 1 3600 600 86400 60\n@ NS ns1\n", f);
	for (int i = 0; i < 3000; i++) {
		fprintf(f, "h%d TXT \"%0200d\"\n", i, i);
	}
	fclose(f);
	is_int(import_file(&st, "big.zone", &zf, &s), CT_EDBFULL, "a big zone: CT_EDBFULL");
	ct_zonefile_deinit(&zf);
	ct_zone_t zone;
	ok(!get_zone(&st, "big.example.", &zone), "no zones entry for it");
	uint8_t buf[64], w[CT_DNAME_MAXLEN];
	wire_of("big.example.", w);
	size_t len;
	uint8_t *d = dump_zone(&st, w, &len);
	is_int(len, 0, "none of its records");
	free(d);
	ok(get_zone(&st, "app.example.", &zone) &&
	       get_rrset(&st, "app.example.", "ns1.app.example.", 1, buf, sizeof(buf)) > 0,
	   "the zone imported before is intact");
	ct_store_close(&st);
}

static void test_round_trips(void)
{
	char path[PATH_MAX + 32];
	const char *files[] = { "names.zone", "types.zone", "inc/main.zone" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", data, files[i]);
		round_trip(path, files[i]);
	}
	/* an owner whose escaped form (\DDD) is too long for ldns to read as an owner: exported
	 * as one label under an $ORIGIN of its parent (found by tests/fuzz/zonefile) */
	char deep[sizeof(HEAD) + 128] = HEAD;
	size_t n = strlen(deep);
	memset(deep + n, 0x9f, 60);
	strcpy(deep + n + 60, ".0123456789.abcdef 300 A 192.0.2.1\n");
	write_file("escapes.zone", deep);
	snprintf(path, sizeof(path), "%s/escapes.zone", tmp);
	round_trip(path, "escapes.zone");
	glob_t g;
	snprintf(path, sizeof(path), "%s/*.zone", zones_dir);
	if (zones_dir[0] == '\0' || glob(path, 0, NULL, &g) != 0) {
		diag("no zones/*.zone yet: no round trip over them");
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		round_trip(g.gl_pathv[i], g.gl_pathv[i] + strlen(zones_dir) - 5);
	}
	globfree(&g);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	char here[PATH_MAX];
	snprintf(here, sizeof(here), "%s", __FILE__); /* tests/unit/zonefile.c */
	char *dir = dirname(here);
	char rel[PATH_MAX + 16];
	snprintf(rel, sizeof(rel), "%s/data", dir);
	if (realpath(rel, data) == NULL) {
		diag("cannot find %s (run from the repository root)", rel);
		return 1;
	}
	snprintf(rel, sizeof(rel), "%s/../../zones", dir);
	if (realpath(rel, zones_dir) == NULL) {
		zones_dir[0] = '\0';
	}
	strcpy(tmp, "/tmp/ct-zonefile-XXXXXX");
	if (mkdtemp(tmp) == NULL || chdir(tmp) != 0) {
		perror(tmp);
		return 1;
	}
	ct_log_set_level(CT_LOG_ERR);

	test_rejects();
	test_ttl_and_duplicates();
	test_names();
	test_types();
	test_include();
	test_import();
	test_full();
	test_round_trips();

	if (chdir("/") == 0) {
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	done_testing();
	return exit_status();
}
