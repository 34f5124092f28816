/* SPDX-License-Identifier: MIT */
/* History entries: keyed by a 64-bit big-endian sequence, so newest is last. */
#include "cutover/history.h"
#include "cutover/errcode.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void ct_history_append(ct_txn_t *txn, const char *actor, const uint8_t *object, size_t object_len,
                       const char *action, const void *before, size_t before_len, const void *after,
                       size_t after_len)
{
	if (txn->ret != CT_EOK) {
		return;
	}
	uint64_t seq = 1;
	MDB_val k, v;
	if (ct_txn_last(txn, txn->store->history, &k, &v)) {
		if (k.mv_size != 8) {
			txn->ret = CT_EDBCORRUPT;
			return;
		}
		seq = ct_get64(k.mv_data) + 1;
	}
	size_t alen = strlen(actor), aclen = strlen(action);
	if (alen > 255) {
		alen = 255;
	}
	if (aclen > 65535) {
		aclen = 65535;
	}
	size_t len = 1 + 8 + 1 + alen + 2 + object_len + 2 + aclen + 4 + before_len + 4 + after_len;
	uint8_t *buf = malloc(len);
	if (buf == NULL) {
		txn->ret = CT_ENOMEM;
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint8_t *p = buf;
	*p++ = CT_VALUE_VERSION;
	ct_put64(p, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	p += 8;
	*p++ = (uint8_t)alen;
	memcpy(p, actor, alen);
	p += alen;
	ct_put16(p, (uint16_t)object_len);
	memcpy(p + 2, object, object_len);
	p += 2 + object_len;
	ct_put16(p, (uint16_t)aclen);
	memcpy(p + 2, action, aclen);
	p += 2 + aclen;
	ct_put32(p, (uint32_t)before_len);
	if (before_len > 0) {
		memcpy(p + 4, before, before_len);
	}
	p += 4 + before_len;
	ct_put32(p, (uint32_t)after_len);
	if (after_len > 0) {
		memcpy(p + 4, after, after_len);
	}
	uint8_t key[8];
	ct_put64(key, seq);
	ct_txn_put(txn, txn->store->history, key, sizeof(key), buf, len);
	free(buf);
}

int ct_history_parse(const MDB_val *key, const MDB_val *val, ct_history_t *h)
{
	const uint8_t *p = val->mv_data, *end = p + val->mv_size;
	if (key->mv_size != 8 || val->mv_size < 1 + 8 + 1 || p[0] != CT_VALUE_VERSION) {
		return CT_EDBCORRUPT;
	}
	h->seq = ct_get64(key->mv_data);
	h->time_ms = ct_get64(p + 1);
	p += 9;
	h->actor_len = *p++;
	h->actor = (const char *)p;
	p += h->actor_len;
	if (p + 2 > end) {
		return CT_EDBCORRUPT;
	}
	h->object_len = ct_get16(p);
	h->object = p + 2;
	p += 2 + h->object_len;
	if (p + 2 > end) {
		return CT_EDBCORRUPT;
	}
	h->action_len = ct_get16(p);
	h->action = (const char *)p + 2;
	p += 2 + h->action_len;
	if (p + 4 > end) {
		return CT_EDBCORRUPT;
	}
	h->before_len = ct_get32(p);
	h->before = p + 4;
	p += 4;
	if (h->before_len > (size_t)(end - p)) {
		return CT_EDBCORRUPT;
	}
	p += h->before_len;
	if (p + 4 > end) {
		return CT_EDBCORRUPT;
	}
	h->after_len = ct_get32(p);
	h->after = p + 4;
	p += 4;
	if (h->after_len != (size_t)(end - p)) {
		return CT_EDBCORRUPT;
	}
	return CT_EOK;
}

int ct_history_foreach(ct_txn_t *txn, const uint8_t *object, size_t object_len,
                       bool (*cb)(const ct_history_t *h, void *arg), void *arg)
{
	MDB_val k, v;
	for (bool found = ct_txn_last(txn, txn->store->history, &k, &v); found;
	     found = ct_txn_prev(txn, txn->store->history, &k, &v)) {
		ct_history_t h;
		if (ct_history_parse(&k, &v, &h) != CT_EOK) {
			txn->ret = CT_EDBCORRUPT;
			return txn->ret;
		}
		if (object != NULL &&
		    (h.object_len != object_len || memcmp(h.object, object, object_len) != 0)) {
			continue;
		}
		if (!cb(&h, arg)) {
			break;
		}
	}
	return txn->ret;
}

/* Sequences start at 1, so a found entry is one with seq != 0. */
static bool take_first(const ct_history_t *h, void *arg)
{
	*(ct_history_t *)arg = *h;
	return false;
}

bool ct_history_last(ct_txn_t *txn, const uint8_t *object, size_t object_len, ct_history_t *h)
{
	memset(h, 0, sizeof(*h));
	ct_history_foreach(txn, object, object_len, take_first, h);
	return h->seq != 0;
}
