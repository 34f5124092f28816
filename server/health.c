/* SPDX-License-Identifier: MIT */
/* Health records: codec, get/put, and the per-pool mask the answer path reads. */
#include "cutover/health.h"
#include "cutover/errcode.h"

#include <string.h>

size_t ct_health_key(uint8_t *out, const uint8_t *pool_key, size_t pool_len, const uint8_t *addr,
                     size_t addr_len)
{
	memcpy(out, pool_key, pool_len);
	memcpy(out + pool_len, addr, addr_len);
	return pool_len + addr_len;
}

/* value: version(1) state(1) flags(1) since(8) last(8) ok_run(2) fail_run(2) latency(4)
 * error_len(1) error */
size_t ct_health_encode(const ct_health_t *h, uint8_t *buf)
{
	size_t elen = strnlen(h->error, CT_HEALTH_ERRLEN - 1);
	buf[0] = CT_VALUE_VERSION;
	buf[1] = h->state;
	buf[2] = (uint8_t)((h->drained ? 0x01 : 0) | (h->last_ok ? 0x02 : 0));
	ct_put64(buf + 3, h->since_ms);
	ct_put64(buf + 11, h->last_ms);
	ct_put16(buf + 19, h->ok_run);
	ct_put16(buf + 21, h->fail_run);
	ct_put32(buf + 23, h->latency_us);
	buf[27] = (uint8_t)elen;
	memcpy(buf + 28, h->error, elen);
	return 28 + elen;
}

int ct_health_parse(const MDB_val *val, ct_health_t *h)
{
	const uint8_t *v = val->mv_data;
	memset(h, 0, sizeof(*h));
	if (val->mv_size < 28 || v[0] != CT_VALUE_VERSION || v[1] > CT_HEALTH_DOWN ||
	    val->mv_size != 28 + (size_t)v[27] || v[27] >= CT_HEALTH_ERRLEN) {
		return CT_EDBCORRUPT;
	}
	h->state = v[1];
	h->drained = (v[2] & 0x01) != 0;
	h->last_ok = (v[2] & 0x02) != 0;
	h->since_ms = ct_get64(v + 3);
	h->last_ms = ct_get64(v + 11);
	h->ok_run = ct_get16(v + 19);
	h->fail_run = ct_get16(v + 21);
	h->latency_us = ct_get32(v + 23);
	memcpy(h->error, v + 28, v[27]);
	h->error[v[27]] = '\0';
	return CT_EOK;
}

bool ct_health_get(ct_txn_t *txn, const uint8_t *pool_key, size_t pool_len, const uint8_t *addr,
                   size_t addr_len, ct_health_t *h)
{
	uint8_t key[CT_HEALTH_KEY_MAX];
	size_t klen = ct_health_key(key, pool_key, pool_len, addr, addr_len);
	MDB_val v;
	memset(h, 0, sizeof(*h));
	if (!ct_txn_get(txn, txn->store->health, key, klen, &v)) {
		return false;
	}
	if (ct_health_parse(&v, h) != CT_EOK) {
		txn->ret = CT_EDBCORRUPT;
		return false;
	}
	return true;
}

void ct_health_put(ct_txn_t *txn, const uint8_t *pool_key, size_t pool_len, const uint8_t *addr,
                   size_t addr_len, const ct_health_t *h)
{
	uint8_t key[CT_HEALTH_KEY_MAX], val[64 + CT_HEALTH_ERRLEN];
	size_t klen = ct_health_key(key, pool_key, pool_len, addr, addr_len);
	ct_txn_put(txn, txn->store->health, key, klen, val, ct_health_encode(h, val));
}

int ct_health_pool_mask(ct_txn_t *txn, const uint8_t *pool_key, size_t pool_len,
                        const ct_pool_view_t *pool, uint8_t out[][CT_POOL_MAX_TARGETS])
{
	for (int g = 0; g < pool->ngroups; g++) {
		for (int t = 0; t < pool->groups[g].ntargets; t++) {
			out[g][t] = CT_TARGET_SERVE;
		}
	}
	int down = 0;
	MDB_val k, v;
	for (bool f = ct_txn_seek(txn, txn->store->health, pool_key, pool_len, &k, &v);
	     f && ct_key_has_prefix(&k, pool_key, pool_len);
	     f = ct_txn_next(txn, txn->store->health, &k, &v)) {
		if (k.mv_size != pool_len + pool->addr_len || v.mv_size < 3) {
			continue; /* another pool's key that extends ours cannot exist; be safe */
		}
		const uint8_t *vb = v.mv_data;
		uint8_t state = (vb[2] & 0x01)		? CT_TARGET_DRAINED
				: vb[1] == CT_HEALTH_DOWN ? CT_TARGET_DOWN
							  : CT_TARGET_SERVE;
		if (state == CT_TARGET_SERVE) {
			continue;
		}
		const uint8_t *addr = (const uint8_t *)k.mv_data + pool_len;
		for (int g = 0; g < pool->ngroups; g++) {
			const ct_pool_group_view_t *gr = &pool->groups[g];
			for (int t = 0; t < gr->ntargets; t++) {
				if (memcmp(gr->addrs + (size_t)t * pool->addr_len, addr,
				           pool->addr_len) == 0) {
					out[g][t] = state;
					down++;
				}
			}
		}
	}
	return down;
}
