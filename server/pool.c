/* SPDX-License-Identifier: MIT */
/* Pools in the store: value codec, checks, and the writes that keep pools, markers, history
 * and the zone serial in step. A pool's name exists in the zone through a marker in rrsets
 * (value CT_VALUE_POOLREF + group + pools key), so the lookup finds it like any record and a
 * static query never pays for pools. */
#include "cutover/pool.h"
#include "cutover/errcode.h"
#include "cutover/history.h"
#include "cutover/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct_pool_view_parse(const void *data, size_t len, ct_pool_view_t *v)
{
	const uint8_t *p = data, *end = p + len;
	if (len < 15 || p[0] != CT_VALUE_VERSION) {
		return CT_EDBCORRUPT;
	}
	v->type = ct_get16(p + 1);
	v->policy = p[3];
	v->ttl = ct_get32(p + 4);
	v->answers = ct_get16(p + 8);
	v->flags = ct_get16(p + 10);
	v->preview_len = p[12];
	v->preview_prefix = p + 13;
	v->addr_len = v->type == CT_TYPE_AAAA ? 16 : 4;
	p += 13 + v->preview_len;
	if (p + 1 > end || v->preview_len > CT_POOL_NAMELEN) {
		return CT_EDBCORRUPT;
	}
	v->ngroups = *p++;
	if (v->ngroups > CT_POOL_MAX_GROUPS) {
		return CT_EDBCORRUPT;
	}
	for (int g = 0; g < v->ngroups; g++) {
		ct_pool_group_view_t *gv = &v->groups[g];
		if (p + 1 > end) {
			return CT_EDBCORRUPT;
		}
		gv->name_len = *p++;
		gv->name = p;
		p += gv->name_len;
		if (p + 6 > end) {
			return CT_EDBCORRUPT;
		}
		gv->weight = ct_get32(p);
		gv->ntargets = ct_get16(p + 4);
		gv->addrs = p + 6;
		p += 6 + (size_t)gv->ntargets * v->addr_len;
		if (p > end || gv->ntargets > CT_POOL_MAX_TARGETS) {
			return CT_EDBCORRUPT;
		}
	}
	/* the check is decoded only by those who need it (not the query path) */
	v->check = p < end ? p : NULL;
	v->check_len = (size_t)(end - p);
	return CT_EOK;
}

void ct_pool_check_defaults(ct_pool_check_t *c, uint8_t kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	if (kind == CT_CHECK_NONE) {
		return;
	}
	c->interval_ms = CT_CHECK_DEFAULT_INTERVAL;
	c->timeout_ms = CT_CHECK_DEFAULT_TIMEOUT;
	c->rise = CT_CHECK_DEFAULT_RISE;
	c->fall = CT_CHECK_DEFAULT_FALL;
	c->status_min = 200;
	c->status_max = 399;
}

/* A len(1)-prefixed text into out (CT_CHECK_TEXTLEN + 1 bytes). */
static const uint8_t *get_text(const uint8_t *p, const uint8_t *end, char *out)
{
	if (p == NULL || p + 1 > end || p + 1 + p[0] > end) {
		return NULL;
	}
	memcpy(out, p + 1, p[0]);
	out[p[0]] = '\0';
	return p + 1 + p[0];
}

int ct_pool_check_parse(const ct_pool_view_t *v, ct_pool_check_t *c)
{
	memset(c, 0, sizeof(*c));
	if (v->check == NULL) {
		return CT_EOK;
	}
	const uint8_t *p = v->check, *end = p + v->check_len;
	if (v->check_len < 20 || p[0] == CT_CHECK_NONE || p[0] > CT_CHECK_HTTPS) {
		return CT_EDBCORRUPT;
	}
	c->kind = p[0];
	c->port = ct_get16(p + 1);
	c->interval_ms = ct_get32(p + 3);
	c->timeout_ms = ct_get32(p + 7);
	c->rise = p[11];
	c->fall = p[12];
	c->status_min = ct_get16(p + 13);
	c->status_max = ct_get16(p + 15);
	c->insecure = (p[17] & 0x01) != 0;
	p = get_text(p + 18, end, c->path);
	p = get_text(p, end, c->host);
	p = get_text(p, end, c->expect);
	return p == end ? CT_EOK : CT_EDBCORRUPT;
}

static uint8_t *put_text(uint8_t *p, const char *text)
{
	size_t n = strnlen(text, CT_CHECK_TEXTLEN);
	*p = (uint8_t)n;
	memcpy(p + 1, text, n);
	return p + 1 + n;
}

int ct_pool_decode(const void *data, size_t len, ct_pool_t *pool)
{
	ct_pool_view_t v;
	int ret = ct_pool_view_parse(data, len, &v);
	if (ret != CT_EOK) {
		return ret;
	}
	memset(pool, 0, sizeof(*pool));
	pool->type = v.type;
	pool->policy = v.policy;
	pool->ttl = v.ttl;
	pool->answers = v.answers;
	pool->flags = v.flags;
	memcpy(pool->preview_prefix, v.preview_prefix, v.preview_len);
	pool->ngroups = v.ngroups;
	for (int g = 0; g < v.ngroups; g++) {
		ct_pool_group_t *gr = &pool->groups[g];
		if (v.groups[g].name_len > CT_POOL_NAMELEN) {
			return CT_EDBCORRUPT;
		}
		memcpy(gr->name, v.groups[g].name, v.groups[g].name_len);
		gr->weight = v.groups[g].weight;
		gr->ntargets = v.groups[g].ntargets;
		for (int t = 0; t < gr->ntargets; t++) {
			memcpy(gr->targets[t], v.groups[g].addrs + (size_t)t * v.addr_len,
			       v.addr_len);
		}
	}
	return ct_pool_check_parse(&v, &pool->check);
}

size_t ct_pool_encode(const ct_pool_t *pool, uint8_t *buf)
{
	size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4;
	size_t plen = strlen(pool->preview_prefix);
	uint8_t *p = buf;
	*p++ = CT_VALUE_VERSION;
	ct_put16(p, pool->type);
	p[2] = pool->policy;
	ct_put32(p + 3, pool->ttl);
	ct_put16(p + 7, pool->answers);
	ct_put16(p + 9, pool->flags);
	p[11] = (uint8_t)plen;
	memcpy(p + 12, pool->preview_prefix, plen);
	p += 12 + plen;
	*p++ = pool->ngroups;
	for (int g = 0; g < pool->ngroups; g++) {
		const ct_pool_group_t *gr = &pool->groups[g];
		size_t nlen = strlen(gr->name);
		*p++ = (uint8_t)nlen;
		memcpy(p, gr->name, nlen);
		p += nlen;
		ct_put32(p, gr->weight);
		ct_put16(p + 4, gr->ntargets);
		p += 6;
		for (int t = 0; t < gr->ntargets; t++) {
			memcpy(p, gr->targets[t], alen);
			p += alen;
		}
	}
	const ct_pool_check_t *c = &pool->check;
	if (c->kind != CT_CHECK_NONE) {
		p[0] = c->kind;
		ct_put16(p + 1, c->port);
		ct_put32(p + 3, c->interval_ms);
		ct_put32(p + 7, c->timeout_ms);
		p[11] = c->rise;
		p[12] = c->fall;
		ct_put16(p + 13, c->status_min);
		ct_put16(p + 15, c->status_max);
		p[17] = c->insecure ? 0x01 : 0;
		p = put_text(p + 18, c->path);
		p = put_text(p, c->host);
		p = put_text(p, c->expect);
	}
	return (size_t)(p - buf);
}

/* Group names and the preview prefix become DNS label text: letters, digits, '-' and '_'. */
bool ct_pool_label_ok(const char *s, bool empty_ok)
{
	size_t n = strlen(s);
	if ((n == 0 && !empty_ok) || n > CT_POOL_NAMELEN) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_')) {
			return false;
		}
	}
	return true;
}

int ct_pool_group_find(const ct_pool_t *pool, const char *name)
{
	for (int g = 0; g < pool->ngroups; g++) {
		if (strcasecmp(pool->groups[g].name, name) == 0) {
			return g;
		}
	}
	return -1;
}

int ct_pool_check(const ct_pool_t *pool, char *err, size_t errlen)
{
	if (pool->type != CT_TYPE_A && pool->type != CT_TYPE_AAAA) {
		return ct_errf(err, errlen, CT_EINVAL, "pool type must be A or AAAA");
	}
	if (pool->policy > CT_POLICY_FAILOVER) {
		return ct_errf(err, errlen, CT_EINVAL,
		               "policy must be weighted, sticky or failover");
	}
	if (pool->ttl > 0x7FFFFFFF) {
		return ct_errf(err, errlen, CT_EINVAL, "TTL %u is above 2147483647 (RFC 2181 8)",
		               pool->ttl);
	}
	if (pool->ngroups == 0 || pool->ngroups > CT_POOL_MAX_GROUPS) {
		return ct_errf(err, errlen, CT_EINVAL, "a pool needs 1 to %d groups",
		               CT_POOL_MAX_GROUPS);
	}
	const ct_pool_check_t *c = &pool->check;
	if (c->kind > CT_CHECK_HTTPS) {
		return ct_errf(err, errlen, CT_EINVAL, "check must be tcp, http or https");
	}
	if (c->kind != CT_CHECK_NONE) {
		if (c->port == 0) {
			return ct_errf(err, errlen, CT_EINVAL, "check port must be 1 to 65535");
		}
		if (c->interval_ms < CT_CHECK_MIN_INTERVAL || c->interval_ms > 3600000) {
			return ct_errf(err, errlen, CT_EINVAL,
			               "check interval %u ms: must be 100 ms to 1 hour",
			               c->interval_ms);
		}
		if (c->timeout_ms < 10 || c->timeout_ms > c->interval_ms) {
			return ct_errf(
			    err, errlen, CT_EINVAL,
			    "check timeout %u ms: must be 10 ms up to the interval (%u ms)",
			    c->timeout_ms, c->interval_ms);
		}
		if (c->rise < 1 || c->fall < 1 || c->rise > 100 || c->fall > 100) {
			return ct_errf(err, errlen, CT_EINVAL,
			               "check rise and fall must be 1 to 100");
		}
		if (c->kind != CT_CHECK_TCP &&
		    (c->status_min < 100 || c->status_max > 599 || c->status_min > c->status_max)) {
			return ct_errf(err, errlen, CT_EINVAL,
			               "check status range %u-%u: must lie within 100-599",
			               c->status_min, c->status_max);
		}
		if (c->kind != CT_CHECK_TCP && c->path[0] != '\0' && c->path[0] != '/') {
			return ct_errf(err, errlen, CT_EINVAL,
			               "check path '%s' must start with '/'", c->path);
		}
		for (const char *t = c->path; *t; t++) {
			if (*t <= ' ' || *t == 0x7f) {
				return ct_errf(
				    err, errlen, CT_EINVAL,
				    "check path must not hold spaces or control characters");
			}
		}
		for (const char *t = c->host; *t; t++) {
			if (*t <= ' ' || *t == 0x7f) {
				return ct_errf(
				    err, errlen, CT_EINVAL,
				    "check host must not hold spaces or control characters");
			}
		}
	}
	if (!ct_pool_label_ok(pool->preview_prefix, true)) {
		return ct_errf(err, errlen, CT_EINVAL,
		               "preview prefix '%s': use letters, digits, '-' and '_' only",
		               pool->preview_prefix);
	}
	for (int g = 0; g < pool->ngroups; g++) {
		const ct_pool_group_t *gr = &pool->groups[g];
		if (!ct_pool_label_ok(gr->name, false)) {
			return ct_errf(err, errlen, CT_EINVAL,
			               "group name '%s': 1 to %d letters, digits, '-' or '_'",
			               gr->name, CT_POOL_NAMELEN);
		}
		if (strlen(pool->preview_prefix) + strlen(gr->name) > CT_POOL_NAMELEN) {
			return ct_errf(err, errlen, CT_EINVAL,
			               "preview label '%s%s' is longer than %d characters",
			               pool->preview_prefix, gr->name, CT_POOL_NAMELEN);
		}
		if (ct_pool_group_find(pool, gr->name) != g) {
			return ct_errf(err, errlen, CT_EINVAL, "group '%s' is named twice",
			               gr->name);
		}
		if (gr->weight > CT_POOL_MAX_WEIGHT) {
			return ct_errf(err, errlen, CT_EINVAL, "group '%s': weight %u is above %d",
			               gr->name, gr->weight, CT_POOL_MAX_WEIGHT);
		}
		if (gr->ntargets > CT_POOL_MAX_TARGETS) {
			return ct_errf(err, errlen, CT_EINVAL, "group '%s': at most %d targets",
			               gr->name, CT_POOL_MAX_TARGETS);
		}
		size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4;
		for (int t = 0; t < gr->ntargets; t++) {
			for (int u = 0; u < t; u++) {
				if (memcmp(gr->targets[t], gr->targets[u], alen) == 0) {
					return ct_errf(err, errlen, CT_EINVAL,
					               "group '%s': a target is listed twice",
					               gr->name);
				}
			}
		}
	}
	return CT_EOK;
}

int ct_pool_key(ct_txn_t *txn, const uint8_t *owner, uint16_t type, uint8_t *key, size_t *klen,
                char *err, size_t errlen)
{
	uint8_t okey[CT_KEY_MAXLEN];
	size_t olen = ct_dname_key(owner, okey), apex_len;
	if (!ct_zone_find(txn, okey, olen, &apex_len, NULL)) {
		char text[CT_DNAME_STRLEN];
		return ct_errf(err, errlen, txn->ret != CT_EOK ? txn->ret : CT_ENOZONE,
		               "%s is in no zone of this database; import its zone first",
		               ct_dname_to_str(owner, text));
	}
	*klen = ct_rr_key(key, okey, olen, apex_len, type);
	return CT_EOK;
}

int ct_pool_key_owner(const MDB_val *key, uint8_t *owner, uint16_t *type)
{
	uint8_t okey[CT_KEY_MAXLEN];
	size_t olen, apex_len;
	int ret = ct_rr_key_split(key, okey, &olen, &apex_len, type);
	if (ret != CT_EOK) {
		return ret;
	}
	return ct_dname_from_key(okey, olen, owner) < 0 ? CT_EDBCORRUPT : CT_EOK;
}

int ct_pool_get(ct_txn_t *txn, const uint8_t *owner, uint16_t type, ct_pool_t *pool)
{
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	char err[8];
	int ret = ct_pool_key(txn, owner, type, key, &klen, err, sizeof(err));
	if (ret != CT_EOK) {
		return ret;
	}
	MDB_val v;
	if (!ct_txn_get(txn, txn->store->pools, key, klen, &v)) {
		return txn->ret != CT_EOK ? txn->ret : CT_ENOTFOUND;
	}
	return ct_pool_decode(v.mv_data, v.mv_size, pool);
}

/* The preview name of group g: "<prefix><group>." in front of the owner. */
static int preview_owner(const uint8_t *owner, const ct_pool_view_t *v, int g, uint8_t *out)
{
	size_t llen = (size_t)v->preview_len + v->groups[g].name_len;
	size_t olen = ct_dname_len(owner);
	if (llen > CT_DNAME_MAXLABEL || 1 + llen + olen > CT_DNAME_MAXLEN) {
		return CT_ERANGE;
	}
	out[0] = (uint8_t)llen;
	memcpy(out + 1, v->preview_prefix, v->preview_len);
	memcpy(out + 1 + v->preview_len, v->groups[g].name, v->groups[g].name_len);
	memcpy(out + 1 + llen, owner, olen);
	return CT_EOK;
}

/* Apex key length of the zone of a pools key (the key starts with apex-key 0x00). */
static size_t key_apex_len(const uint8_t *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	uint8_t okey[CT_KEY_MAXLEN];
	size_t olen, apex_len;
	uint16_t type;
	return ct_rr_key_split(&k, okey, &olen, &apex_len, &type) == CT_EOK ? apex_len : 0;
}

static bool is_ref_to(const MDB_val *v, const uint8_t *pkey, size_t pklen)
{
	const uint8_t *d = v->mv_data;
	return v->mv_size == 2 + pklen && d[0] == CT_VALUE_POOLREF &&
	       memcmp(d + 2, pkey, pklen) == 0;
}

/* A marker of a pool at the same owner as the pool keyed pkey (itself, or its A/AAAA twin). */
static bool is_ref_to_owner(const MDB_val *v, const uint8_t *pkey, size_t pklen)
{
	const uint8_t *d = v->mv_data;
	return v->mv_size == 2 + pklen && d[0] == CT_VALUE_POOLREF &&
	       memcmp(d + 2, pkey, pklen - 2) == 0;
}

/*
 * Refuse what would clash with the pool at owner: static records of its type or a CNAME at
 * the name, a name that is another pool's preview name, a name at or below a delegation, and
 * any record at a preview name other than the markers of this pool and of its A/AAAA twin
 * (both families of a name share its preview names).
 */
static int check_conflicts(ct_txn_t *txn, const uint8_t *owner, const ct_pool_view_t *v,
                           const uint8_t *pkey, size_t pklen, char *err, size_t errlen)
{
	ct_store_t *st = txn->store;
	char text[CT_DNAME_STRLEN];
	uint8_t okey[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN];
	size_t olen = ct_dname_key(owner, okey);
	size_t apex_len = key_apex_len(pkey, pklen);
	MDB_val val;

	int labels = ct_key_labels(okey, olen), apex_labels = ct_key_labels(okey, apex_len);
	for (int l = apex_labels + 1; l <= labels; l++) {
		size_t plen = ct_key_prefix_len(okey, olen, l);
		size_t klen = ct_rr_key(key, okey, plen, apex_len, CT_TYPE_NS);
		if (ct_txn_get(txn, st->rrsets, key, klen, &val)) {
			uint8_t cut[CT_DNAME_MAXLEN];
			ct_dname_from_key(okey, plen, cut);
			return ct_errf(
			    err, errlen, CT_EEXIST,
			    "%s is at or below the delegation %s: its answers would never "
			    "be served",
			    ct_dname_to_str(owner, text),
			    ct_dname_to_str(cut, (char[CT_DNAME_STRLEN]){ 0 }));
		}
	}
	size_t klen = ct_rr_key(key, okey, olen, apex_len, v->type);
	if (ct_txn_get(txn, st->rrsets, key, klen, &val) &&
	    ((uint8_t *)val.mv_data)[0] != CT_VALUE_POOLREF) {
		return ct_errf(err, errlen, CT_EEXIST,
		               "%s has static %s records; remove them from the zone first",
		               ct_dname_to_str(owner, text), v->type == CT_TYPE_A ? "A" : "AAAA");
	}
	/* A preview name of another pool (of either type) cannot hold a pool of its own: its
	 * answers would depend on which of the two was written last. */
	size_t nlen = ct_rr_key_node(key, okey, olen, apex_len);
	key[nlen++] = 0x00;
	MDB_val k;
	for (bool f = ct_txn_seek(txn, st->rrsets, key, nlen, &k, &val);
	     f && ct_key_has_prefix(&k, key, nlen) && k.mv_size == nlen + 2;
	     f = ct_txn_next(txn, st->rrsets, &k, &val)) {
		if (((uint8_t *)val.mv_data)[0] == CT_VALUE_POOLREF && val.mv_size > 2 &&
		    !is_ref_to_owner(&val, pkey, pklen)) {
			MDB_val other = { val.mv_size - 2, (uint8_t *)val.mv_data + 2 };
			uint8_t other_owner[CT_DNAME_MAXLEN];
			uint16_t other_type;
			if (ct_pool_key_owner(&other, other_owner, &other_type) != CT_EOK) {
				return ct_errf(err, errlen, CT_EDBCORRUPT,
				               "%s: a pool marker there cannot be read",
				               ct_dname_to_str(owner, text));
			}
			return ct_errf(
			    err, errlen, CT_EEXIST,
			    "%s is a preview name of the %s pool at %s; rename that group, "
			    "set a preview prefix there, or turn its previews off",
			    ct_dname_to_str(owner, text), other_type == CT_TYPE_AAAA ? "AAAA" : "A",
			    ct_dname_to_str(other_owner, (char[CT_DNAME_STRLEN]){ 0 }));
		}
	}
	klen = ct_rr_key(key, okey, olen, apex_len, CT_TYPE_CNAME);
	if (ct_txn_get(txn, st->rrsets, key, klen, &val)) {
		return ct_errf(
		    err, errlen, CT_EEXIST,
		    "%s has a CNAME, which must be the only record at its name (RFC 2181 10.1)",
		    ct_dname_to_str(owner, text));
	}
	if (v->flags & CT_POOL_NO_PREVIEW) {
		return txn->ret;
	}
	for (int g = 0; g < v->ngroups; g++) {
		uint8_t pname[CT_DNAME_MAXLEN], pk[CT_KEY_MAXLEN], node[CT_RR_KEY_MAXLEN];
		if (preview_owner(owner, v, g, pname) != CT_EOK) {
			return ct_errf(err, errlen, CT_ERANGE,
			               "preview name of group '%.*s' is too long",
			               v->groups[g].name_len, (const char *)v->groups[g].name);
		}
		size_t pklen2 = ct_dname_key(pname, pk);
		nlen = ct_rr_key_node(node, pk, pklen2, apex_len);
		node[nlen++] = 0x00;
		for (bool f = ct_txn_seek(txn, st->rrsets, node, nlen, &k, &val);
		     f && ct_key_has_prefix(&k, node, nlen) && k.mv_size == nlen + 2;
		     f = ct_txn_next(txn, st->rrsets, &k, &val)) {
			/* the twin pool's preview markers (same owner, other type) are fine */
			if (!is_ref_to_owner(&val, pkey, pklen)) {
				return ct_errf(
				    err, errlen, CT_EEXIST,
				    "preview name %s would shadow existing records there; "
				    "rename the group, set a preview prefix, or turn previews off",
				    ct_dname_to_str(pname, text));
			}
		}
	}
	return txn->ret;
}

/* Write (or with del, delete) the markers of the pool at owner. */
static void markers(ct_txn_t *txn, const uint8_t *owner, const ct_pool_view_t *v,
                    const uint8_t *pkey, size_t pklen, bool del)
{
	uint8_t okey[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN], ref[2 + CT_RR_KEY_MAXLEN];
	size_t apex_len = key_apex_len(pkey, pklen);
	ref[0] = CT_VALUE_POOLREF;
	memcpy(ref + 2, pkey, pklen);
	for (int g = -1; g < (int)v->ngroups; g++) {
		uint8_t pname[CT_DNAME_MAXLEN];
		const uint8_t *name = owner;
		if (g >= 0) {
			if ((v->flags & CT_POOL_NO_PREVIEW) ||
			    preview_owner(owner, v, g, pname) != 0) {
				break;
			}
			name = pname;
		}
		size_t olen = ct_dname_key(name, okey);
		size_t klen = ct_rr_key(key, okey, olen, apex_len, v->type);
		if (del) {
			MDB_val cur;
			if (ct_txn_get(txn, txn->store->rrsets, key, klen, &cur) &&
			    is_ref_to(&cur, pkey, pklen)) {
				ct_txn_del(txn, txn->store->rrsets, key, klen);
			}
		} else {
			ref[1] = g < 0 ? CT_POOLREF_ALL : (uint8_t)g;
			ct_txn_put(txn, txn->store->rrsets, key, klen, ref, 2 + pklen);
		}
	}
}

int ct_pool_put(ct_txn_t *txn, const uint8_t *owner, const ct_pool_t *pool, const char *actor,
                const char *action, bool *changed, char *err, size_t errlen)
{
	uint8_t pkey[CT_RR_KEY_MAXLEN];
	size_t pklen;
	*changed = false;
	int ret = ct_pool_check(pool, err, errlen);
	if (ret == CT_EOK && owner[0] == 1 && owner[1] == '*') {
		/* RFC 4592: a wildcard owner synthesises answers; a pool answers one name only */
		char text[CT_DNAME_STRLEN];
		ret = ct_errf(err, errlen, CT_EINVAL, "%s: a pool cannot be at a wildcard name",
		              ct_dname_to_str(owner, text));
	}
	if (ret == CT_EOK) {
		ret = ct_pool_key(txn, owner, pool->type, pkey, &pklen, err, errlen);
	}
	if (ret != CT_EOK) {
		txn->ret = txn->ret != CT_EOK ? txn->ret : ret;
		return ret;
	}
	uint8_t *buf = malloc(2 * CT_POOL_VALUE_MAX);
	if (buf == NULL) {
		return txn->ret = CT_ENOMEM;
	}
	uint8_t *old = buf + CT_POOL_VALUE_MAX;
	size_t len = ct_pool_encode(pool, buf), old_len = 0;
	MDB_val v;
	ct_pool_view_t view, old_view;
	if (ct_txn_get(txn, txn->store->pools, pkey, pklen, &v)) {
		if (v.mv_size > CT_POOL_VALUE_MAX ||
		    ct_pool_view_parse(v.mv_data, v.mv_size, &old_view) != CT_EOK) {
			ret = ct_errf(err, errlen, CT_EDBCORRUPT, "the stored pool cannot be read");
			goto out;
		}
		old_len = v.mv_size;
		memcpy(old, v.mv_data, old_len);
		if (old_len == len && memcmp(old, buf, len) == 0) {
			goto out; /* unchanged: nothing to write, no history */
		}
		ct_pool_view_parse(old, old_len, &old_view); /* point into our copy */
		markers(txn, owner, &old_view, pkey, pklen, true);
	}
	ct_pool_view_parse(buf, len, &view);
	ret = check_conflicts(txn, owner, &view, pkey, pklen, err, errlen);
	if (ret != CT_EOK) {
		goto out;
	}
	markers(txn, owner, &view, pkey, pklen, false);
	ct_txn_put(txn, txn->store->pools, pkey, pklen, buf, len);
	ct_history_append(txn, actor, pkey, pklen, action, old, old_len, buf, len);
	ct_zone_bump_serial(txn, pkey, key_apex_len(pkey, pklen));
	*changed = txn->ret == CT_EOK;
	ret = txn->ret;
out:
	if (ret != CT_EOK && txn->ret == CT_EOK) {
		txn->ret = ret;
	}
	free(buf);
	return ret;
}

int ct_pool_delete(ct_txn_t *txn, const uint8_t *owner, uint16_t type, const char *actor,
                   const char *action, char *err, size_t errlen)
{
	uint8_t pkey[CT_RR_KEY_MAXLEN];
	size_t pklen;
	int ret = ct_pool_key(txn, owner, type, pkey, &pklen, err, errlen);
	if (ret != CT_EOK) {
		return txn->ret = txn->ret != CT_EOK ? txn->ret : ret;
	}
	MDB_val v;
	char text[CT_DNAME_STRLEN];
	if (!ct_txn_get(txn, txn->store->pools, pkey, pklen, &v)) {
		return txn->ret = txn->ret != CT_EOK
		                      ? txn->ret
		                      : ct_errf(err, errlen, CT_ENOTFOUND, "%s has no %s pool",
		                                ct_dname_to_str(owner, text),
		                                type == CT_TYPE_A ? "A" : "AAAA");
	}
	uint8_t *old = malloc(v.mv_size);
	if (old == NULL) {
		return txn->ret = CT_ENOMEM;
	}
	size_t old_len = v.mv_size;
	memcpy(old, v.mv_data, old_len);
	ct_pool_view_t view;
	if (ct_pool_view_parse(old, old_len, &view) != CT_EOK) {
		free(old);
		return txn->ret = CT_EDBCORRUPT;
	}
	markers(txn, owner, &view, pkey, pklen, true);
	ct_txn_del(txn, txn->store->pools, pkey, pklen);
	ct_txn_del_prefix(txn, txn->store->health, pkey, pklen); /* its targets' health goes too */
	ct_history_append(txn, actor, pkey, pklen, action != NULL ? action : "pool delete", old,
	                  old_len, NULL, 0);
	ct_zone_bump_serial(txn, pkey, key_apex_len(pkey, pklen));
	free(old);
	return txn->ret;
}

int ct_pool_restore_markers(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len, char *err,
                            size_t errlen)
{
	uint8_t prefix[CT_KEY_MAXLEN + 1];
	memcpy(prefix, apex_key, apex_len);
	prefix[apex_len] = 0x00;
	MDB_val k, v;
	for (bool f = ct_txn_seek(txn, txn->store->pools, prefix, apex_len + 1, &k, &v);
	     f && ct_key_has_prefix(&k, prefix, apex_len + 1);
	     f = ct_txn_next(txn, txn->store->pools, &k, &v)) {
		uint8_t owner[CT_DNAME_MAXLEN];
		uint16_t type;
		ct_pool_view_t view;
		if (ct_pool_key_owner(&k, owner, &type) != CT_EOK ||
		    ct_pool_view_parse(v.mv_data, v.mv_size, &view) != CT_EOK) {
			return txn->ret = CT_EDBCORRUPT;
		}
		int ret = check_conflicts(txn, owner, &view, k.mv_data, k.mv_size, err, errlen);
		if (ret != CT_EOK) {
			return txn->ret = ret;
		}
		markers(txn, owner, &view, k.mv_data, k.mv_size, false);
	}
	return txn->ret;
}

int ct_pool_key_zone(const MDB_val *key, uint8_t *apex)
{
	uint8_t okey[CT_KEY_MAXLEN];
	size_t olen, apex_len;
	uint16_t type;
	if (ct_rr_key_split(key, okey, &olen, &apex_len, &type) != CT_EOK ||
	    ct_dname_from_key(okey, apex_len, apex) < 0) {
		return CT_EDBCORRUPT;
	}
	return CT_EOK;
}
