/* SPDX-License-Identifier: MIT */
/* Unit tests: name parsing, key encoding and its ordering. */
#include "cutover/dname.h"
#include "cutover/errcode.h"
#include "tap.h"

/* "a.b." style literal to wire, test helper (labels only, no escapes). */
static size_t wire(const char *text, uint8_t *out)
{
	size_t o = 0;
	const char *p = text;
	while (*p && strcmp(p, ".") != 0) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		out[o++] = (uint8_t)n;
		memcpy(out + o, p, n);
		o += n;
		p += n + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

static int keycmp(const char *a, const char *b)
{
	uint8_t wa[256], wb[256], ka[CT_KEY_MAXLEN], kb[CT_KEY_MAXLEN];
	wire(a, wa);
	wire(b, wb);
	size_t la = ct_dname_key(wa, ka), lb = ct_dname_key(wb, kb);
	size_t n = la < lb ? la : lb;
	int c = memcmp(ka, kb, n);
	return c != 0 ? c : (la < lb ? -1 : la > lb);
}

int main(void)
{
	uint8_t w[256], k[CT_KEY_MAXLEN], back[256];
	char text[CT_DNAME_STRLEN];

	size_t wl = wire("WWW.Example.com.", w);
	size_t kl = ct_dname_key(w, k);
	is_mem(k, kl, "com\0example\0www\0", 16, "key is reversed, folded, terminated");
	is_int(ct_dname_from_key(k, kl, back), (int)wl, "key decodes to a name of the same length");
	ok(ct_dname_eq(back, w), "decoded name equals the original, ignoring case");
	is_int(ct_dname_key((const uint8_t *)"", k), 0, "root has the empty key");
	is_int(ct_key_labels((const uint8_t *)"com\0example\0www\0", 16), 3, "three labels");
	is_int(ct_key_prefix_len((const uint8_t *)"com\0example\0www\0", 16, 2), 12, "prefix of 2");

	/* escapes keep 0x00 and 0x01 inside labels unambiguous and ordered */
	const uint8_t odd[] = { 3, 'a', 0x00, 0x01, 1, 'b', 0 };
	kl = ct_dname_key(odd, k);
	is_mem(k, kl, "b\0a\x01\x01\x01\x02\0", 8, "0x00 and 0x01 escaped");
	is_int(ct_dname_from_key(k, kl, back), (int)sizeof(odd), "escaped key decodes");
	is_mem(back, sizeof(odd), odd, sizeof(odd), "escaped name round-trips");
	ok(ct_dname_from_key((const uint8_t *)"com", 3, back) == CT_EMALF, "unterminated key rejected");
	ok(ct_dname_from_key((const uint8_t *)"\x01\x05\0", 3, back) == CT_EMALF, "bad escape rejected");

	/* RFC 4034 6.1 canonical order */
	const char *order[] = { "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
				"zABC.a.EXAMPLE.", "z.example.", "*.z.example.", "b.z.example." };
	bool sorted = true;
	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		if (keycmp(order[i], order[i + 1]) >= 0) {
			diag("%s !< %s", order[i], order[i + 1]);
			sorted = false;
		}
	}
	ok(sorted, "key order is canonical order");
	ok(keycmp("example.", "exampl.") > 0 && keycmp("a.b.", "ab.") > 0, "label boundaries");

	/* in/eq/labels */
	uint8_t a[256], b[256];
	wire("x.Y.example.", a);
	wire("example.", b);
	ok(ct_dname_in(a, b), "x.y.example in example");
	ok(!ct_dname_in(b, a), "example not in x.y.example");
	is_int(ct_dname_labels(a), 3, "label count");
	is_str(ct_dname_to_str(a, text), "x.Y.example.", "presentation form");
	is_str(ct_dname_to_str((const uint8_t *)"", text), ".", "root presentation");
	const uint8_t dotted[] = { 3, 'a', '.', 0x07, 0 };
	is_str(ct_dname_to_str(dotted, text), "a\\.\\007.", "escapes in presentation");

	/* unpack: plain, compressed, loops, forward pointers, over-long */
	uint8_t pkt[600];
	memset(pkt, 0, sizeof(pkt));
	size_t n = wire("example.com.", pkt + 12);
	pkt[12 + n] = 3;
	memcpy(pkt + 13 + n, "www", 3);
	pkt[16 + n] = 0xC0;
	pkt[17 + n] = 12;
	size_t pos = 12 + n;
	int len = ct_dname_unpack(pkt, 18 + n, &pos, back);
	is_int(len, 17, "compressed name unpacked");
	is_int(pos, 18 + n, "position after the pointer");
	pkt[100] = 0xC0;
	pkt[101] = 100;
	pos = 100;
	ok(ct_dname_unpack(pkt, 102, &pos, back) == CT_EMALF, "self pointer rejected");
	pkt[100] = 0xC0;
	pkt[101] = 102;
	pos = 100;
	ok(ct_dname_unpack(pkt, 200, &pos, back) == CT_EMALF, "forward pointer rejected");
	pkt[100] = 64;
	pos = 100;
	ok(ct_dname_unpack(pkt, 200, &pos, back) == CT_EMALF, "label type 0x40 rejected");
	for (int i = 0; i < 5; i++) {
		pkt[i * 64] = 63;
		memset(pkt + i * 64 + 1, 'a', 63);
	}
	pkt[320] = 0;
	pos = 0;
	ok(ct_dname_unpack(pkt, 321, &pos, back) == CT_EMALF, "name over 255 octets rejected");
	pos = 0;
	ok(ct_dname_unpack(pkt, 30, &pos, back) == CT_EMALF, "truncated name rejected");
	/* A chain of pointers to pointers down to "\3www\0" at 0: 128 hops are read, 129 not. */
	uint8_t chain[2 + 4 + 2 * 130];
	memcpy(chain, "\3www", 5);
	chain[5] = 0;
	for (int i = 0; i < 130; i++) {
		size_t at = 6 + 2 * (size_t)i;
		size_t to = i == 0 ? 0 : at - 2;
		chain[at] = (uint8_t)(0xC0 | (to >> 8));
		chain[at + 1] = (uint8_t)to;
	}
	pos = 6 + 2 * 127;
	is_int(ct_dname_unpack(chain, sizeof(chain), &pos, back), 5, "128 pointers in a row are read");
	pos = 6 + 2 * 128;
	ok(ct_dname_unpack(chain, sizeof(chain), &pos, back) == CT_EMALF,
	   "129 pointers in a row are rejected");
	ok(ct_dname_check((const uint8_t *)"\x03www\x00", 5) == 5, "check accepts a valid name");
	ok(ct_dname_check((const uint8_t *)"\x03ww", 3) == CT_EMALF, "check rejects a short one");

	done_testing();
	return exit_status();
}
