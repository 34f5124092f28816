/* SPDX-License-Identifier: MIT */
/* Domain names in wire form, and their label-reversed, case-folded LMDB key encoding. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_DNAME_MAXLEN   255 /* RFC 1035 2.3.4, including the root label */
#define CT_DNAME_MAXLABEL 63
#define CT_DNAME_MAXLABELS 128
#define CT_KEY_MAXLEN     511 /* LMDB's default maximum key size */
#define CT_DNAME_STRLEN   (4 * CT_DNAME_MAXLEN + 2) /* worst case "\DDD" per octet */

/*
 * Read the name at pkt[*pos], following compression pointers (RFC 1035 4.1.4), into out
 * (CT_DNAME_MAXLEN bytes) uncompressed. A pointer must point strictly before the label it
 * replaces, so loops and forward pointers are rejected. On success *pos is past the name as
 * it stands in the packet and the uncompressed length is returned; otherwise CT_EMALF.
 */
int ct_dname_unpack(const uint8_t *pkt, size_t pktlen, size_t *pos, uint8_t *out);

/* Length of the uncompressed name at name[0..maxlen), or CT_EMALF if it is not a valid one. */
int ct_dname_check(const uint8_t *name, size_t maxlen);

/* Length in octets of a valid uncompressed name, root label included. */
size_t ct_dname_len(const uint8_t *name);

/* Number of labels, not counting the root. */
int ct_dname_labels(const uint8_t *name);

/* Case-insensitive equality of two valid names (RFC 4343). */
bool ct_dname_eq(const uint8_t *a, const uint8_t *b);

/* True if name equals parent or lies below it. */
bool ct_dname_in(const uint8_t *name, const uint8_t *parent);

/* The suffix of name after its first n labels (points into name). */
const uint8_t *ct_dname_skip(const uint8_t *name, int n);

/* An octet of a name folded to lower case (RFC 4343: ASCII letters only). */
static inline uint8_t ct_dname_fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Fold ASCII upper case to lower case in place. */
void ct_dname_tolower(uint8_t *name);

/*
 * Key encoding: labels in reverse order, lower-cased, each followed by 0x00; inside a label
 * 0x00 is written 0x01 0x01 and 0x01 is written 0x01 0x02. The key of a name is then a byte
 * prefix of the keys of all names below it, and byte order is DNS canonical order
 * (RFC 4034 6.1). The root has the empty key. Writes at most CT_KEY_MAXLEN bytes to out and
 * returns the key length.
 */
size_t ct_dname_key(const uint8_t *name, uint8_t *out);

/* Inverse of ct_dname_key: the wire name (lower case) into out; its length, or CT_EMALF. */
int ct_dname_from_key(const uint8_t *key, size_t keylen, uint8_t *out);

/* Length of the key prefix holding the first `labels` labels (from the root) of a key. */
size_t ct_key_prefix_len(const uint8_t *key, size_t keylen, int labels);

/* Number of labels in a key. */
int ct_key_labels(const uint8_t *key, size_t keylen);

/* Presentation form ("www.example.com.") into out (CT_DNAME_STRLEN bytes); returns out. */
char *ct_dname_to_str(const uint8_t *name, char *out);
