/* SPDX-License-Identifier: MIT */
/* Wire-format domain names and their LMDB key encoding. */
#include "cutover/dname.h"
#include "cutover/errcode.h"

#include <stdio.h>
#include <string.h>

int ct_dname_unpack(const uint8_t *pkt, size_t pktlen, size_t *pos, uint8_t *out)
{
	size_t p = *pos;
	size_t len = 0;
	size_t end = 0;        /* where the name ends in the packet, set at the first pointer */
	size_t lowest = p;     /* every pointer must go strictly below this */
	bool jumped = false;
	int hops = 0;

	for (;;) {
		if (p >= pktlen) {
			return CT_EMALF;
		}
		uint8_t c = pkt[p];
		if ((c & 0xC0) == 0xC0) {
			if (p + 1 >= pktlen) {
				return CT_EMALF;
			}
			size_t target = ((size_t)(c & 0x3F) << 8) | pkt[p + 1];
			if (target >= lowest) {
				return CT_EMALF; /* forward pointer or loop */
			}
			if (++hops > CT_DNAME_MAXLABELS) {
				/* more pointers than a name has labels: only a chain of pointers to
				 * pointers, built to make every record that points at it cost its
				 * whole length (a 64 KiB message could hold 30,000 hops) */
				return CT_EMALF;
			}
			if (!jumped) {
				end = p + 2;
				jumped = true;
			}
			lowest = target;
			p = target;
			continue;
		}
		if (c & 0xC0) {
			return CT_EMALF; /* 0x40/0x80: extended label types, obsolete (RFC 6891 5) */
		}
		if (len + 1 + c > CT_DNAME_MAXLEN) {
			return CT_EMALF;
		}
		if (p + 1 + c > pktlen) {
			return CT_EMALF;
		}
		memcpy(out + len, pkt + p, 1 + (size_t)c);
		len += 1 + (size_t)c;
		p += 1 + (size_t)c;
		if (c == 0) {
			break;
		}
	}
	*pos = jumped ? end : p;
	return (int)len;
}

int ct_dname_check(const uint8_t *name, size_t maxlen)
{
	size_t p = 0;
	while (p < maxlen) {
		uint8_t c = name[p];
		if (c > CT_DNAME_MAXLABEL) {
			return CT_EMALF;
		}
		p += 1 + (size_t)c;
		if (p > CT_DNAME_MAXLEN) {
			return CT_EMALF;
		}
		if (c == 0) {
			return (int)p;
		}
	}
	return CT_EMALF;
}

size_t ct_dname_len(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p) {
		p += 1 + *p;
	}
	return (size_t)(p - name) + 1;
}

int ct_dname_labels(const uint8_t *name)
{
	int n = 0;
	while (*name) {
		name += 1 + *name;
		n++;
	}
	return n;
}

bool ct_dname_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b) {
			return false;
		}
		uint8_t n = *a;
		if (n == 0) {
			return true;
		}
		for (uint8_t i = 1; i <= n; i++) {
			if (ct_dname_fold(a[i]) != ct_dname_fold(b[i])) {
				return false;
			}
		}
		a += 1 + n;
		b += 1 + n;
	}
}

const uint8_t *ct_dname_skip(const uint8_t *name, int n)
{
	while (n-- > 0 && *name) {
		name += 1 + *name;
	}
	return name;
}

bool ct_dname_in(const uint8_t *name, const uint8_t *parent)
{
	int diff = ct_dname_labels(name) - ct_dname_labels(parent);
	if (diff < 0) {
		return false;
	}
	return ct_dname_eq(ct_dname_skip(name, diff), parent);
}

void ct_dname_tolower(uint8_t *name)
{
	while (*name) {
		uint8_t n = *name;
		for (uint8_t i = 1; i <= n; i++) {
			name[i] = ct_dname_fold(name[i]);
		}
		name += 1 + n;
	}
}

size_t ct_dname_key(const uint8_t *name, uint8_t *out)
{
	const uint8_t *labels[CT_DNAME_MAXLABELS];
	int n = 0;
	for (const uint8_t *p = name; *p && n < CT_DNAME_MAXLABELS; p += 1 + *p) {
		labels[n++] = p;
	}
	size_t k = 0;
	while (n-- > 0) {
		const uint8_t *l = labels[n];
		for (uint8_t i = 1; i <= l[0]; i++) {
			uint8_t c = ct_dname_fold(l[i]);
			if (c <= 0x01) {
				out[k++] = 0x01;
				out[k++] = (uint8_t)(c + 1);
			} else {
				out[k++] = c;
			}
		}
		out[k++] = 0x00;
	}
	return k;
}

int ct_dname_from_key(const uint8_t *key, size_t keylen, uint8_t *out)
{
	/* Labels come root-first in the key; decode each, then lay them out in reverse. */
	uint8_t tmp[CT_DNAME_MAXLEN];
	size_t starts[CT_DNAME_MAXLABELS];
	int n = 0;
	size_t t = 0;
	size_t i = 0;
	while (i < keylen) {
		if (n == CT_DNAME_MAXLABELS) {
			return CT_EMALF;
		}
		starts[n] = t;
		if (t >= sizeof(tmp)) {
			return CT_EMALF;
		}
		size_t lenpos = t++;
		while (i < keylen && key[i] != 0x00) {
			uint8_t c = key[i++];
			if (c == 0x01) {
				if (i >= keylen || key[i] < 0x01 || key[i] > 0x02) {
					return CT_EMALF;
				}
				c = (uint8_t)(key[i++] - 1);
			}
			if (t >= sizeof(tmp)) {
				return CT_EMALF;
			}
			tmp[t++] = c;
		}
		if (i >= keylen) {
			return CT_EMALF; /* label without its terminator */
		}
		i++;
		size_t llen = t - lenpos - 1;
		if (llen == 0 || llen > CT_DNAME_MAXLABEL) {
			return CT_EMALF;
		}
		tmp[lenpos] = (uint8_t)llen;
		n++;
	}
	if (t + 1 > CT_DNAME_MAXLEN) {
		return CT_EMALF;
	}
	size_t o = 0;
	while (n-- > 0) {
		size_t len = (size_t)tmp[starts[n]] + 1;
		memcpy(out + o, tmp + starts[n], len);
		o += len;
	}
	out[o++] = 0;
	return (int)o;
}

size_t ct_key_prefix_len(const uint8_t *key, size_t keylen, int labels)
{
	size_t i = 0;
	while (labels > 0 && i < keylen) {
		if (key[i++] == 0x00) {
			labels--;
		}
	}
	return i;
}

int ct_key_labels(const uint8_t *key, size_t keylen)
{
	int n = 0;
	for (size_t i = 0; i < keylen; i++) {
		n += key[i] == 0x00;
	}
	return n;
}

char *ct_dname_to_str(const uint8_t *name, char *out)
{
	char *o = out;
	if (*name == 0) {
		strcpy(out, ".");
		return out;
	}
	while (*name) {
		uint8_t n = *name;
		for (uint8_t i = 1; i <= n; i++) {
			uint8_t c = name[i];
			if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
			    c == '@' || c == '$') {
				*o++ = '\\';
				*o++ = (char)c;
			} else if (c <= 0x20 || c >= 0x7F) {
				o += sprintf(o, "\\%03u", c);
			} else {
				*o++ = (char)c;
			}
		}
		*o++ = '.';
		name += 1 + n;
	}
	*o = '\0';
	return out;
}
