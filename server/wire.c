/* SPDX-License-Identifier: MIT */
/* The response writer: RRs straight into the buffer, name compression by suffix matching. */
#include "cutover/wire.h"
#include "cutover/dname.h"
#include "cutover/errcode.h"
#include "cutover/store.h"

#include <string.h>

void ct_wire_init(ct_wire_t *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->len = 0;
	w->cap = cap;
	w->ncomp = 0;
}

static void remember_label(ct_wire_t *w, size_t off)
{
	/* a pointer holds 14 bits of offset (RFC 1035 4.1.4) */
	if (w->ncomp < CT_WIRE_COMP_MAX && off < 0x4000) {
		w->comp[w->ncomp++] = (uint16_t)off;
	}
}

void ct_wire_remember(ct_wire_t *w, size_t off)
{
	while (off < w->len && w->buf[off] != 0 && (w->buf[off] & 0xC0) == 0) {
		remember_label(w, off);
		off += 1 + (size_t)w->buf[off];
	}
}

static inline uint8_t fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Does the (possibly compressed) name at buf[off] equal the uncompressed name? */
static bool packet_name_eq(const ct_wire_t *w, size_t off, const uint8_t *name)
{
	for (int hops = 0; hops < 64;) {
		if (off >= w->len) {
			return false;
		}
		uint8_t c = w->buf[off];
		if ((c & 0xC0) == 0xC0) {
			off = ((size_t)(c & 0x3F) << 8) | w->buf[off + 1];
			hops++;
			continue;
		}
		if (c != *name) {
			return false;
		}
		if (c == 0) {
			return true;
		}
		for (uint8_t i = 1; i <= c; i++) {
			if (fold(w->buf[off + i]) != fold(name[i])) {
				return false;
			}
		}
		off += 1 + (size_t)c;
		name += 1 + c;
	}
	return false;
}

int ct_wire_put_name(ct_wire_t *w, const uint8_t *name, bool compress)
{
	/* Find the longest suffix already in the packet: try suffixes from the whole name down. */
	const uint8_t *suffix = name;
	int ptr = -1;
	if (compress) {
		for (; *suffix != 0; suffix += 1 + *suffix) {
			for (uint16_t i = 0; i < w->ncomp; i++) {
				if (packet_name_eq(w, w->comp[i], suffix)) {
					ptr = w->comp[i];
					break;
				}
			}
			if (ptr >= 0) {
				break;
			}
		}
	}
	size_t plain = (size_t)(suffix - name);
	size_t need = plain + (ptr >= 0 ? 2 : 1);
	if (w->len + need > w->cap) {
		return CT_ESPACE;
	}
	for (const uint8_t *l = name; l < suffix; l += 1 + *l) {
		remember_label(w, w->len + (size_t)(l - name));
	}
	memcpy(w->buf + w->len, name, plain);
	w->len += plain;
	if (ptr >= 0) {
		w->buf[w->len++] = (uint8_t)(0xC0 | (ptr >> 8));
		w->buf[w->len++] = (uint8_t)ptr;
	} else {
		w->buf[w->len++] = 0;
	}
	return CT_EOK;
}

/* Rdata names to compress: offset of the names within rdata and how many (SOA has two). */
static int put_rdata(ct_wire_t *w, uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	size_t skip = 0;
	int names = 0;
	switch (type) {
	case CT_TYPE_NS:
	case CT_TYPE_CNAME:
	case CT_TYPE_PTR:
		names = 1;
		break;
	case CT_TYPE_MX:
		skip = 2;
		names = 1;
		break;
	case CT_TYPE_SOA:
		names = 2;
		break;
	default:
		break;
	}
	if (names > 0 && skip < rdlen) {
		if (w->len + skip > w->cap) {
			return CT_ESPACE;
		}
		memcpy(w->buf + w->len, rd, skip);
		w->len += skip;
		size_t pos = skip;
		for (int i = 0; i < names; i++) {
			int n = ct_dname_check(rd + pos, rdlen - pos);
			if (n < 0) {
				return CT_EMALF;
			}
			int ret = ct_wire_put_name(w, rd + pos, true);
			if (ret != CT_EOK) {
				return ret;
			}
			pos += (size_t)n;
		}
		rd += pos;
		rdlen = (uint16_t)(rdlen - pos);
	}
	if (w->len + rdlen > w->cap) {
		return CT_ESPACE;
	}
	memcpy(w->buf + w->len, rd, rdlen);
	w->len += rdlen;
	return CT_EOK;
}

int ct_wire_put_rr(ct_wire_t *w, int sec, const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rdata, uint16_t rdlen)
{
	int ret = ct_wire_put_name(w, owner, true);
	if (ret != CT_EOK) {
		return ret;
	}
	if (w->len + 10 > w->cap) {
		return CT_ESPACE;
	}
	uint8_t *p = w->buf + w->len;
	ct_put16(p, type);
	ct_put16(p + 2, CT_CLASS_IN);
	ct_put32(p + 4, ttl);
	size_t rdlen_at = w->len + 8;
	w->len += 10;
	ret = put_rdata(w, type, rdata, rdlen);
	if (ret != CT_EOK) {
		return ret;
	}
	ct_put16(w->buf + rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
	ct_wire_count_one(w->buf, sec);
	return CT_EOK;
}

int ct_wire_repeat_rr(ct_wire_t *w, int sec, size_t at, const uint8_t *rdata, uint16_t rdlen)
{
	/* the owner there: a pointer (copied), else labels (pointed to, within 14 bits) */
	size_t end = at;
	while (w->buf[end] != 0 && (w->buf[end] & 0xC0) == 0) {
		end += 1 + (size_t)w->buf[end];
	}
	bool ptr = end == at && w->buf[at] != 0;
	if (!ptr && at >= 0x4000) {
		return CT_ESPACE; /* not reached: the first RR of a UDP or TCP answer is within */
	}
	size_t fixed = w->buf[end] == 0 ? end + 1 : end + 2; /* type, class, TTL follow */
	if (w->len + 2 + 8 + 2 + rdlen > w->cap) {
		return CT_ESPACE;
	}
	uint8_t *p = w->buf + w->len;
	if (ptr) {
		memcpy(p, w->buf + at, 2);
	} else {
		p[0] = (uint8_t)(0xC0 | (at >> 8));
		p[1] = (uint8_t)at;
	}
	memcpy(p + 2, w->buf + fixed, 8);
	ct_put16(p + 10, rdlen);
	memcpy(p + 12, rdata, rdlen);
	w->len += 12 + (size_t)rdlen;
	ct_wire_count_one(w->buf, sec);
	return CT_EOK;
}

void ct_wire_mark(const ct_wire_t *w, ct_wire_mark_t *m)
{
	m->len = w->len;
	m->ncomp = w->ncomp;
	for (int i = 0; i < 3; i++) {
		m->counts[i] = ct_wire_count(w->buf, i);
	}
}

void ct_wire_rollback(ct_wire_t *w, const ct_wire_mark_t *m)
{
	w->len = m->len;
	w->ncomp = m->ncomp;
	for (int i = 0; i < 3; i++) {
		ct_put16(w->buf + 6 + 2 * i, m->counts[i]);
	}
}
