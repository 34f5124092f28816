/* SPDX-License-Identifier: MIT */
/* Zone files: an RFC 1035 master file reader with $INCLUDE, the zone checks, import, export. */
#include "cutover/zonefile.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/pool.h"

#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/*
 * Reading. ldns parses one record from a string; it neither implements $INCLUDE nor reports
 * the line a record starts on, and it silently makes relative names absolute when it has no
 * origin. So we split the file into entries ourselves (comments, quotes, parentheses, line
 * numbers), handle the directives, and hand each record to ldns_rr_new_frm_str with an
 * origin. Without a known origin we pass a sentinel name no zone can hold and refuse any
 * name that ends in it.
 */

static const uint8_t no_origin[] = "\x13\000cutover-no-origin!";

typedef struct {
	ldns_rdf *origin; /* current $ORIGIN, or the no_origin sentinel */
	ldns_rdf *prev;   /* owner of the previous record, for blank owners */
	uint32_t ttl;     /* $TTL */
	bool have_ttl;
	uint32_t last_ttl; /* the last explicit TTL (RFC 1035 5.1) */
	bool have_last_ttl;
} scope_t;

typedef struct {
	const char *name; /* as shown in messages */
	uint32_t idx;     /* in zf->files */
	char *text;
	size_t len, pos;
	int line; /* line of text[pos] */
} source_t;

typedef struct {
	char *buf;
	size_t len, cap;
} strbuf_t;

typedef struct {
	ct_zonefile_t *zf;
	struct {
		dev_t dev;
		ino_t ino;
	} open[CT_ZONEFILE_MAXDEPTH + 1];
	int depth; /* files open above the current one */
	uint32_t seq;
	int ret; /* CT_ENOMEM stops reading */
} reader_t;

enum { ENTRY_EOF = 0, ENTRY_OK = 1, ENTRY_BAD = 2 };

__attribute__((format(printf, 5, 0))) static void
vreport(ct_zonefile_t *zf, int prio, const char *file, int line, const char *fmt, va_list ap)
{
	if (prio == CT_LOG_ERR) {
		if (++zf->errors > CT_ZONEFILE_MAXERRORS) {
			return;
		}
	} else {
		zf->warnings++;
	}
	char msg[1536];
	int n = 0;
	if (file != NULL && line > 0) {
		n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	} else if (file != NULL) {
		n = snprintf(msg, sizeof(msg), "%s: ", file);
	}
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		n = 0;
	}
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (zf->report != NULL) {
		zf->report(zf->report_ctx, prio, msg);
	} else {
		ct_log(prio, "%s", msg);
	}
}

__attribute__((format(printf, 5, 6))) static void
tell(ct_zonefile_t *zf, int prio, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(zf, prio, file, line, fmt, ap);
	va_end(ap);
}

/* An error about a record, at its file and line. */
__attribute__((format(printf, 3, 4))) static void
rr_error(ct_zonefile_t *zf, const ct_zonefile_rr_t *rr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(zf, CT_LOG_ERR, zf->files[rr->file], rr->line, fmt, ap);
	va_end(ap);
}

/* Say how many errors were not shown, once, at the end of a pass. */
static void report_suppressed(ct_zonefile_t *zf)
{
	if (zf->errors > CT_ZONEFILE_MAXERRORS) {
		unsigned more = zf->errors - CT_ZONEFILE_MAXERRORS;
		char msg[128];
		snprintf(msg, sizeof(msg), "%s: %u more error%s not shown", zf->files[0], more,
		         more == 1 ? "" : "s");
		if (zf->report != NULL) {
			zf->report(zf->report_ctx, CT_LOG_ERR, msg);
		} else {
			ct_log(CT_LOG_ERR, "%s", msg);
		}
	}
}

static const char *type_str(uint16_t type, char *buf, size_t size)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	if (d != NULL && d->_type == type && d->_name != NULL) {
		return d->_name;
	}
	snprintf(buf, size, "TYPE%u", type);
	return buf;
}

/* Where other is, as seen from a message about rr: "line 12" or "other.zone:12". */
static const char *where(const ct_zonefile_t *zf, const ct_zonefile_rr_t *rr,
                         const ct_zonefile_rr_t *other, char *buf, size_t size)
{
	if (rr->file == other->file) {
		snprintf(buf, size, "line %d", other->line);
	} else {
		snprintf(buf, size, "%s:%d", zf->files[other->file], other->line);
	}
	return buf;
}

/* The first n labels of name as relative presentation text ("@" for none). */
static char *relative_str(const uint8_t *name, int n, char *out)
{
	if (n <= 0) {
		strcpy(out, "@");
		return out;
	}
	uint8_t head[CT_DNAME_MAXLEN];
	size_t len = (size_t)(ct_dname_skip(name, n) - name);
	memcpy(head, name, len);
	head[len] = 0;
	ct_dname_to_str(head, out);
	out[strlen(out) - 1] = '\0'; /* the final separator, never part of an escape */
	return out;
}

static int sb_put(strbuf_t *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;
		while (cap < sb->len + n + 1) {
			cap *= 2;
		}
		char *nb = realloc(sb->buf, cap);
		if (nb == NULL) {
			return CT_ENOMEM;
		}
		sb->buf = nb;
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return CT_EOK;
}

static int sb_putc(strbuf_t *sb, char c)
{
	return sb_put(sb, &c, 1);
}

static void skip_line(source_t *s)
{
	while (s->pos < s->len && s->text[s->pos] != '\n') {
		s->pos++;
	}
}

/*
 * The next entry of the file: one line, or several joined by parentheses, with comments
 * removed and parentheses and line ends turned into blanks (RFC 1035 5.1). Leading blanks
 * are kept: they mean "same owner as before". *start is the entry's first line.
 */
static int next_entry(reader_t *r, source_t *s, strbuf_t *sb, int *start)
{
	int depth = 0, paren_line = 0;
	bool quoted = false, comment = false, content = false;
	sb->len = 0;
	*start = s->line;
	while (s->pos < s->len) {
		char c = s->text[s->pos++];
		int ret = CT_EOK;
		if (c == '\n') {
			s->line++;
			comment = false;
			if (quoted) {
				tell(r->zf, CT_LOG_ERR, s->name, s->line - 1,
				     "quoted string is not closed on its line");
				return ENTRY_BAD;
			}
			if (depth > 0) {
				ret = sb_putc(sb, ' ');
			} else if (content) {
				return ENTRY_OK;
			} else {
				sb->len = 0;
				*start = s->line;
			}
		} else if (comment) {
			continue;
		} else if (c == '\0') {
			tell(r->zf, CT_LOG_ERR, s->name, s->line,
			     "NUL byte in the file; is this a zone file?");
			skip_line(s);
			return ENTRY_BAD;
		} else if (c == '\\') {
			ret = sb_putc(sb, c);
			if (ret == CT_EOK && s->pos < s->len && s->text[s->pos] != '\n') {
				ret = sb_putc(sb, s->text[s->pos++]);
			}
			content = true;
		} else if (quoted) {
			quoted = c != '"';
			ret = sb_putc(sb, c);
		} else if (c == '"') {
			quoted = true;
			content = true;
			ret = sb_putc(sb, c);
		} else if (c == ';') {
			comment = true;
		} else if (c == '(') {
			if (depth++ == 0) {
				paren_line = s->line;
			}
			ret = sb_putc(sb, ' ');
		} else if (c == ')') {
			if (depth == 0) {
				tell(r->zf, CT_LOG_ERR, s->name, s->line,
				     "')' without '(' before it");
				skip_line(s);
				return ENTRY_BAD;
			}
			depth--;
			ret = sb_putc(sb, ' ');
		} else {
			if (!isspace((unsigned char)c)) {
				content = true;
			}
			ret = sb_putc(sb, c == '\r' ? ' ' : c);
		}
		if (ret != CT_EOK) {
			r->ret = ret;
			return ENTRY_EOF;
		}
	}
	if (quoted) {
		tell(r->zf, CT_LOG_ERR, s->name, s->line, "quoted string is not closed");
		return ENTRY_BAD;
	}
	if (depth > 0) {
		tell(r->zf, CT_LOG_ERR, s->name, paren_line,
		     "'(' is not closed before the end of the file");
		return ENTRY_BAD;
	}
	return content ? ENTRY_OK : ENTRY_EOF;
}

/* The next blank-separated token at e[*pos] (escapes kept, quotes too); NULL at the end. */
static const char *next_token(const char *e, size_t *pos, size_t *len)
{
	size_t p = *pos;
	while (e[p] != '\0' && isspace((unsigned char)e[p])) {
		p++;
	}
	if (e[p] == '\0') {
		*pos = p;
		return NULL;
	}
	size_t b = p;
	bool quoted = false;
	while (e[p] != '\0' && (quoted || !isspace((unsigned char)e[p]))) {
		if (e[p] == '\\' && e[p + 1] != '\0') {
			p++;
		} else if (e[p] == '"') {
			quoted = !quoted;
		}
		p++;
	}
	*pos = p;
	*len = p - b;
	return e + b;
}

/* Copy a token into a NUL-terminated buffer, truncating; quotes around it are removed. */
static char *token_str(const char *t, size_t n, char *out, size_t size)
{
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t++;
		n -= 2;
	}
	if (n >= size) {
		n = size - 1;
	}
	memcpy(out, t, n);
	out[n] = '\0';
	return out;
}

/* Entry text for messages: blanks collapsed, at most about 80 characters. */
static char *entry_excerpt(const char *e, char *out, size_t size)
{
	size_t o = 0;
	bool blank = true;
	for (const char *p = e; *p != '\0' && o + 4 < size; p++) {
		if (isspace((unsigned char)*p)) {
			if (!blank) {
				out[o++] = ' ';
			}
			blank = true;
		} else {
			out[o++] = *p;
			blank = false;
		}
		if (o >= 80 && p[1] != '\0') {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
	}
	while (o > 0 && out[o - 1] == ' ') {
		o--;
	}
	out[o] = '\0';
	return out;
}

/* A TTL: seconds, or BIND-style units ("1h30m", "2d"). False when not a number. */
static bool parse_ttl(const char *t, size_t n, uint32_t *out)
{
	uint64_t total = 0;
	size_t i = 0;
	if (n == 0) {
		return false;
	}
	while (i < n) {
		if (!isdigit((unsigned char)t[i])) {
			return false;
		}
		uint64_t num = 0;
		while (i < n && isdigit((unsigned char)t[i])) {
			num = num * 10 + (uint64_t)(t[i++] - '0');
			if (num > UINT32_MAX) {
				return false;
			}
		}
		uint64_t mult = 1;
		if (i < n) {
			switch (tolower((unsigned char)t[i++])) {
			case 's':
				break;
			case 'm':
				mult = 60;
				break;
			case 'h':
				mult = 3600;
				break;
			case 'd':
				mult = 86400;
				break;
			case 'w':
				mult = 604800;
				break;
			default:
				return false;
			}
		}
		total += num * mult;
		if (total > UINT32_MAX) {
			return false;
		}
	}
	*out = (uint32_t)total;
	return true;
}

/* Parse and range-check a TTL token, reporting problems. */
static bool get_ttl(reader_t *r, source_t *s, int line, const char *t, size_t n, uint32_t *out)
{
	char text[64];
	token_str(t, n, text, sizeof(text));
	if (!parse_ttl(t, n, out)) {
		tell(r->zf, CT_LOG_ERR, s->name, line,
		     "bad TTL '%s'; write seconds (3600) or units (1h30m)", text);
		return false;
	}
	if (*out > CT_ZONEFILE_MAXTTL) {
		tell(r->zf, CT_LOG_ERR, s->name, line,
		     "TTL %s is above the maximum of %u seconds (RFC 2181 8)", text,
		     CT_ZONEFILE_MAXTTL);
		return false;
	}
	return true;
}

static bool is_no_origin(const uint8_t *name)
{
	return ct_dname_in(name, no_origin);
}

/*
 * A name from a directive: absolute, or relative to the current origin. NULL (reported) when
 * it is not a name or is relative with no origin to complete it.
 */
static ldns_rdf *directive_name(reader_t *r, source_t *s, int line, const scope_t *sc,
                                const char *t, size_t n, const char *what)
{
	char text[1024];
	token_str(t, n, text, sizeof(text));
	ldns_rdf *name = NULL;
	if (strcmp(text, "@") == 0) {
		name = ldns_rdf_clone(sc->origin);
	} else {
		name = ldns_dname_new_frm_str(text);
		if (name != NULL && !ldns_dname_str_absolute(text)) {
			if (is_no_origin(ldns_rdf_data(sc->origin))) {
				tell(
				    r->zf, CT_LOG_ERR, s->name, line,
				    "%s '%s' is relative but no origin is known; end it with a dot",
				    what, text);
				ldns_rdf_deep_free(name);
				return NULL;
			}
			if (ldns_dname_cat(name, sc->origin) != LDNS_STATUS_OK) {
				ldns_rdf_deep_free(name);
				name = NULL;
			}
		}
	}
	if (name == NULL || is_no_origin(ldns_rdf_data(name)) ||
	    ct_dname_check(ldns_rdf_data(name), ldns_rdf_size(name)) != (int)ldns_rdf_size(name)) {
		tell(r->zf, CT_LOG_ERR, s->name, line, "%s '%s' is not a valid domain name", what,
		     text);
		ldns_rdf_deep_free(name);
		return NULL;
	}
	return name;
}

static int zf_add_file(ct_zonefile_t *zf, const char *name, uint32_t *idx)
{
	char **nf = realloc(zf->files, (zf->nfiles + 1) * sizeof(*nf));
	if (nf == NULL) {
		return CT_ENOMEM;
	}
	zf->files = nf;
	nf[zf->nfiles] = strdup(name);
	if (nf[zf->nfiles] == NULL) {
		return CT_ENOMEM;
	}
	*idx = (uint32_t)zf->nfiles++;
	return CT_EOK;
}

static int zf_add_rr(reader_t *r, const source_t *s, int line, const ldns_rr *rr,
                     const uint8_t *rdata, size_t rdlen)
{
	ct_zonefile_t *zf = r->zf;
	if (zf->count == zf->cap) {
		size_t cap = zf->cap ? zf->cap * 2 : 64;
		ct_zonefile_rr_t *n = realloc(zf->rr, cap * sizeof(*n));
		if (n == NULL) {
			return CT_ENOMEM;
		}
		zf->rr = n;
		zf->cap = cap;
	}
	const ldns_rdf *owner = ldns_rr_owner(rr);
	size_t olen = ldns_rdf_size(owner);
	uint8_t key[CT_KEY_MAXLEN];
	size_t klen = ct_dname_key(ldns_rdf_data(owner), key);
	uint8_t *mem = malloc(olen + klen + rdlen + 1);
	if (mem == NULL) {
		return CT_ENOMEM;
	}
	ct_zonefile_rr_t *z = &zf->rr[zf->count++];
	z->owner = mem;
	z->key = mem + olen;
	z->rdata = mem + olen + klen;
	memcpy(z->owner, ldns_rdf_data(owner), olen);
	memcpy(z->key, key, klen);
	memcpy(z->rdata, rdata, rdlen);
	z->key_len = (uint16_t)klen;
	z->rdlen = (uint16_t)rdlen;
	z->type = (uint16_t)ldns_rr_get_type(rr);
	z->rclass = (uint16_t)ldns_rr_get_class(rr);
	z->ttl = ldns_rr_ttl(rr);
	z->file = s->idx;
	z->line = line;
	z->seq = r->seq++;
	return CT_EOK;
}

/* Check every name of a parsed record: complete (not relative to a missing origin), valid. */
static bool check_names(reader_t *r, source_t *s, int line, const ldns_rr *rr)
{
	size_t n = ldns_rr_rd_count(rr);
	for (size_t i = 0; i <= n; i++) {
		const ldns_rdf *d = i == 0 ? ldns_rr_owner(rr) : ldns_rr_rdf(rr, i - 1);
		if (ldns_rdf_get_type(d) != LDNS_RDF_TYPE_DNAME) {
			continue;
		}
		const uint8_t *name = ldns_rdf_data(d);
		size_t len = ldns_rdf_size(d);
		if (ct_dname_check(name, len) != (int)len) {
			tell(r->zf, CT_LOG_ERR, s->name, line,
			     "name longer than 255 octets (RFC 1035 2.3.4)");
			return false;
		}
		if (is_no_origin(name)) {
			char text[CT_DNAME_STRLEN];
			relative_str(name, ct_dname_labels(name) - 1, text);
			tell(r->zf, CT_LOG_ERR, s->name, line,
			     "relative name '%s' but no origin is known; put $ORIGIN before it "
			     "or give the origin (--origin)",
			     text);
			return false;
		}
	}
	return true;
}

/* A class mnemonic; NONE and ANY are query classes, read as types (then refused) instead. */
static bool is_class(const char *t, size_t n)
{
	char text[32];
	if (n >= sizeof(text)) {
		return false;
	}
	int c = ldns_get_rr_class_by_name(token_str(t, n, text, sizeof(text)));
	return c != 0 && c != LDNS_RR_CLASS_NONE && c != LDNS_RR_CLASS_ANY;
}

/* A record entry: owner [TTL] [CLASS] TYPE RDATA, TTL and class in either order. */
static void read_record(reader_t *r, source_t *s, int line, scope_t *sc, const char *e)
{
	ct_zonefile_t *zf = r->zf;
	char excerpt[96];
	size_t pos = 0, n = 0, owner_len = 0, class_len = 0;
	const char *owner = NULL, *cls = NULL, *t;
	bool have_ttl = false;
	uint32_t ttl = 0;

	if (!isspace((unsigned char)e[0])) {
		owner = next_token(e, &pos, &owner_len);
	} else if (sc->prev == NULL) {
		tell(zf, CT_LOG_ERR, s->name, line,
		     "record without an owner name (the line starts with a blank) and no "
		     "record before it to take the owner from");
		return;
	}
	for (int i = 0; i < 2; i++) {
		size_t p = pos;
		t = next_token(e, &p, &n);
		if (t != NULL && !have_ttl && isdigit((unsigned char)t[0])) {
			if (!get_ttl(r, s, line, t, n, &ttl)) {
				return;
			}
			have_ttl = true;
		} else if (t != NULL && cls == NULL && is_class(t, n)) {
			cls = t;
			class_len = n;
		} else {
			break;
		}
		pos = p;
	}
	size_t type_pos = pos;
	t = next_token(e, &pos, &n);
	char type_text[64];
	if (t == NULL) {
		tell(zf, CT_LOG_ERR, s->name, line, "record '%s' has no type",
		     entry_excerpt(e, excerpt, sizeof(excerpt)));
		return;
	}
	token_str(t, n, type_text, sizeof(type_text));
	uint16_t type = n < sizeof(type_text) ? (uint16_t)ldns_get_rr_type_by_name(type_text) : 0;
	if (type == 0) {
		tell(zf, CT_LOG_ERR, s->name, line,
		     "unknown record type '%s'; write other types as TYPEnnn with RFC 3597 "
		     "rdata (\\# length hex)",
		     type_text);
		return;
	}
	if (type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255)) {
		tell(zf, CT_LOG_ERR, s->name, line,
		     "type %s is a query or meta type and cannot be in a zone (RFC 6895 3.1)",
		     type_text);
		return;
	}
	if (have_ttl) {
		sc->last_ttl = ttl;
		sc->have_last_ttl = true;
	} else if (sc->have_ttl) {
		ttl = sc->ttl;
	} else if (sc->have_last_ttl) {
		ttl = sc->last_ttl;
	} else {
		tell(zf, CT_LOG_ERR, s->name, line,
		     "record has no TTL and no $TTL comes before it; add e.g. '$TTL 3600' at "
		     "the top of the file");
		return;
	}

	/* Hand ldns "owner [class] type rdata": the TTL is ours, and ldns wants class first. */
	strbuf_t sb = { 0 };
	int ret = owner ? sb_put(&sb, owner, owner_len) : sb_putc(&sb, ' ');
	if (ret == CT_EOK && cls != NULL) {
		ret = sb_putc(&sb, ' ');
		ret = ret ? ret : sb_put(&sb, cls, class_len);
	}
	if (ret == CT_EOK) {
		ret = sb_putc(&sb, ' ');
		ret = ret ? ret : sb_put(&sb, e + type_pos, strlen(e + type_pos));
	}
	if (ret != CT_EOK) {
		free(sb.buf);
		r->ret = ret;
		return;
	}
	ldns_rr *rr = NULL;
	ldns_buffer *wire = NULL;
	ldns_status st = ldns_rr_new_frm_str(&rr, sb.buf, 0, sc->origin, &sc->prev);
	free(sb.buf);
	if (st != LDNS_STATUS_OK) {
		tell(zf, CT_LOG_ERR, s->name, line, "cannot parse '%s': %s",
		     entry_excerpt(e, excerpt, sizeof(excerpt)), ldns_get_errorstr_by_id(st));
		goto out;
	}
	if (ldns_rr_get_type(rr) != type) {
		/* ldns splits fields at spaces and tabs only: at a vertical tab or form feed it
		 * read another type (TYPE0 with no rdata) than the one we checked */
		tell(zf, CT_LOG_ERR, s->name, line,
		     "cannot parse '%s': separate the fields with spaces or tabs, not vertical "
		     "tabs or form feeds",
		     entry_excerpt(e, excerpt, sizeof(excerpt)));
		goto out;
	}
	ldns_rr_set_ttl(rr, ttl);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		char *c = ldns_rr_class2str(ldns_rr_get_class(rr));
		tell(zf, CT_LOG_ERR, s->name, line,
		     "class %s is not supported; Cutover serves class IN only", c ? c : "?");
		free(c);
		goto out;
	}
	if (!check_names(r, s, line, rr)) {
		goto out;
	}
	wire = ldns_buffer_new(256);
	if (wire == NULL) {
		r->ret = CT_ENOMEM;
		goto out;
	}
	st = ldns_rr_rdata2buffer_wire(wire, rr);
	if (st != LDNS_STATUS_OK || ldns_buffer_position(wire) > UINT16_MAX) {
		tell(zf, CT_LOG_ERR, s->name, line, "rdata of '%s' is longer than 65535 octets",
		     entry_excerpt(e, excerpt, sizeof(excerpt)));
		goto out;
	}
	ret = zf_add_rr(r, s, line, rr, ldns_buffer_begin(wire), ldns_buffer_position(wire));
	if (ret != CT_EOK) {
		r->ret = ret;
	}
out:
	ldns_buffer_free(wire);
	ldns_rr_free(rr);
}

static void read_source(reader_t *r, const char *path, scope_t *sc, const char *from,
                        int from_line);

static void scope_deinit(scope_t *sc)
{
	ldns_rdf_deep_free(sc->origin);
	ldns_rdf_deep_free(sc->prev);
	sc->origin = sc->prev = NULL;
}

/* $INCLUDE file [origin]: the file is relative to the including file's directory. */
static void do_include(reader_t *r, source_t *s, int line, scope_t *sc, const char *e, size_t pos)
{
	size_t n, on = 0;
	const char *file = next_token(e, &pos, &n);
	const char *origin = file ? next_token(e, &pos, &on) : NULL;
	size_t xn;
	if (file == NULL) {
		tell(r->zf, CT_LOG_ERR, s->name, line, "$INCLUDE needs a file name");
		return;
	}
	if (origin != NULL && next_token(e, &pos, &xn) != NULL) {
		tell(r->zf, CT_LOG_ERR, s->name, line,
		     "unexpected text after $INCLUDE file and origin");
		return;
	}
	char name[2048], path[4096];
	token_str(file, n, name, sizeof(name));
	const char *slash = strrchr(s->name, '/');
	if (name[0] == '/' || slash == NULL) {
		snprintf(path, sizeof(path), "%s", name);
	} else {
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - s->name), s->name, name);
	}
	if (r->depth > CT_ZONEFILE_MAXDEPTH) { /* depth counts the main file */
		tell(r->zf, CT_LOG_ERR, s->name, line,
		     "$INCLUDE %s: includes nest deeper than %d files", path, CT_ZONEFILE_MAXDEPTH);
		return;
	}
	scope_t child = { 0 };
	child.origin = origin ? directive_name(r, s, line, sc, origin, on, "$INCLUDE origin")
	                      : ldns_rdf_clone(sc->origin);
	if (child.origin == NULL) {
		if (origin == NULL) {
			r->ret = CT_ENOMEM;
		}
		return;
	}
	child.ttl = sc->ttl;
	child.have_ttl = sc->have_ttl;
	child.last_ttl = sc->last_ttl;
	child.have_last_ttl = sc->have_last_ttl;
	read_source(r, path, &child, s->name, line);
	scope_deinit(&child);
}

static void read_directive(reader_t *r, source_t *s, int line, scope_t *sc, const char *e)
{
	size_t pos = 0, n, vn = 0, xn;
	const char *d = next_token(e, &pos, &n);
	char word[32];
	token_str(d, n, word, sizeof(word));
	if (strcasecmp(word, "$INCLUDE") == 0) {
		do_include(r, s, line, sc, e, pos);
		return;
	}
	bool is_origin = strcasecmp(word, "$ORIGIN") == 0;
	if (!is_origin && strcasecmp(word, "$TTL") != 0) {
		tell(r->zf, CT_LOG_ERR, s->name, line,
		     "unknown directive '%s'; Cutover reads $ORIGIN, $TTL and $INCLUDE", word);
		return;
	}
	const char *v = next_token(e, &pos, &vn);
	if (v == NULL || next_token(e, &pos, &xn) != NULL) {
		tell(r->zf, CT_LOG_ERR, s->name, line, "%s needs exactly one %s", word,
		     is_origin ? "domain name" : "TTL");
		return;
	}
	if (is_origin) {
		ldns_rdf *o = directive_name(r, s, line, sc, v, vn, "$ORIGIN");
		if (o != NULL) {
			ldns_rdf_deep_free(sc->origin);
			sc->origin = o;
		}
	} else if (get_ttl(r, s, line, v, vn, &sc->ttl)) {
		sc->have_ttl = true;
	}
}

static bool already_open(reader_t *r, const struct stat *sb)
{
	for (int i = 0; i < r->depth; i++) {
		if (r->open[i].dev == sb->st_dev && r->open[i].ino == sb->st_ino) {
			return true;
		}
	}
	return false;
}

/* Read the whole file at path into s->text; reports (at from:from_line if included). */
static int load_source(reader_t *r, const char *path, source_t *s, const char *from, int from_line)
{
	FILE *f = fopen(path, "r");
	struct stat sb;
	int ret = CT_EOK;
	if (f == NULL || fstat(fileno(f), &sb) != 0) {
		ret = -errno;
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		ret = -EISDIR;
		goto fail;
	}
	if (already_open(r, &sb)) {
		tell(r->zf, CT_LOG_ERR, from, from_line,
		     "$INCLUDE %s: include loop, that file is already being read", path);
		fclose(f);
		return CT_EZONE;
	}
	size_t cap = 4096;
	s->text = malloc(cap);
	while (s->text != NULL) {
		s->len += fread(s->text + s->len, 1, cap - s->len - 1, f);
		if (s->len < cap - 1) {
			break;
		}
		char *nt = realloc(s->text, cap * 2);
		if (nt == NULL) {
			free(s->text);
		}
		s->text = nt;
		cap *= 2;
	}
	if (s->text == NULL) {
		fclose(f);
		return CT_ENOMEM;
	}
	if (ferror(f)) {
		ret = -EIO;
		goto fail;
	}
	s->text[s->len] = '\0';
	fclose(f);
	r->open[r->depth].dev = sb.st_dev;
	r->open[r->depth].ino = sb.st_ino;
	return CT_EOK;
fail:
	if (from != NULL) {
		tell(r->zf, CT_LOG_ERR, from, from_line, "$INCLUDE %s: cannot read it: %s", path,
		     strerror(-ret));
	} else {
		tell(r->zf, CT_LOG_ERR, path, 0, "cannot read the zone file: %s", strerror(-ret));
	}
	if (f != NULL) {
		fclose(f);
	}
	free(s->text);
	s->text = NULL;
	return ret;
}

static void read_source(reader_t *r, const char *path, scope_t *sc, const char *from, int from_line)
{
	source_t s = { .line = 1 };
	int ret = load_source(r, path, &s, from, from_line);
	if (ret != CT_EOK) {
		if (ret == CT_ENOMEM || from == NULL) {
			r->ret = ret; /* a missing include is reported; reading goes on */
		}
		return;
	}
	ret = zf_add_file(r->zf, path, &s.idx);
	if (ret != CT_EOK) {
		r->ret = ret;
		free(s.text);
		return;
	}
	s.name = r->zf->files[s.idx];
	r->depth++;
	strbuf_t sb = { 0 };
	int line, kind;
	while (r->ret == CT_EOK && (kind = next_entry(r, &s, &sb, &line)) != ENTRY_EOF) {
		if (kind != ENTRY_OK) {
			continue;
		}
		if (sb.buf[0] == '$') {
			read_directive(r, &s, line, sc, sb.buf);
		} else {
			read_record(r, &s, line, sc, sb.buf);
		}
	}
	r->depth--;
	free(sb.buf);
	free(s.text);
}

void ct_zonefile_init(ct_zonefile_t *zf, ct_zonefile_report_t report, void *ctx)
{
	memset(zf, 0, sizeof(*zf));
	zf->report = report;
	zf->report_ctx = ctx;
}

void ct_zonefile_deinit(ct_zonefile_t *zf)
{
	for (size_t i = 0; i < zf->count; i++) {
		free(zf->rr[i].owner);
	}
	free(zf->rr);
	for (size_t i = 0; i < zf->nfiles; i++) {
		free(zf->files[i]);
	}
	free(zf->files);
	memset(zf, 0, sizeof(*zf));
}

int ct_zonefile_parse_name(const char *text, uint8_t *out)
{
	if (text == NULL || text[0] == '\0') {
		return CT_EMALF;
	}
	ldns_rdf *d = ldns_dname_new_frm_str(text);
	if (d == NULL) {
		return CT_EMALF;
	}
	size_t n = ldns_rdf_size(d);
	int ret = ct_dname_check(ldns_rdf_data(d), n);
	if (ret == (int)n) {
		memcpy(out, ldns_rdf_data(d), n);
	} else {
		ret = CT_EMALF;
	}
	ldns_rdf_deep_free(d);
	return ret;
}

int ct_zonefile_parse(ct_zonefile_t *zf, const char *path, const char *origin)
{
	reader_t r = { .zf = zf };
	scope_t sc = { 0 };
	if (origin != NULL) {
		int len = ct_zonefile_parse_name(origin, zf->apex);
		if (len < 0) {
			tell(zf, CT_LOG_ERR, NULL, 0, "origin '%s' is not a valid domain name",
			     origin);
			return CT_EZONE;
		}
		zf->have_apex = true;
		sc.origin = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, (size_t)len, zf->apex);
	} else {
		sc.origin =
		    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, sizeof(no_origin), no_origin);
	}
	if (sc.origin == NULL) {
		return CT_ENOMEM;
	}
	unsigned errors = zf->errors;
	read_source(&r, path, &sc, NULL, 0);
	scope_deinit(&sc);
	if (r.ret != CT_EOK && r.ret != CT_EZONE) {
		return r.ret;
	}
	report_suppressed(zf);
	return zf->errors != errors ? CT_EZONE : CT_EOK;
}

/*
 * Checking. Records are sorted by owner key (DNS canonical order, so a delegation point comes
 * just before the names below it), type, rdata and reading order.
 */

static int rr_cmp(const void *a, const void *b)
{
	const ct_zonefile_rr_t *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	if (c != 0) {
		return c;
	}
	if (x->key_len != y->key_len) {
		return x->key_len < y->key_len ? -1 : 1;
	}
	if (x->type != y->type) {
		return x->type < y->type ? -1 : 1;
	}
	n = x->rdlen < y->rdlen ? x->rdlen : y->rdlen;
	c = memcmp(x->rdata, y->rdata, n);
	if (c != 0) {
		return c;
	}
	if (x->rdlen != y->rdlen) {
		return x->rdlen < y->rdlen ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool same_owner(const ct_zonefile_rr_t *a, const ct_zonefile_rr_t *b)
{
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static bool same_rrset(const ct_zonefile_rr_t *a, const ct_zonefile_rr_t *b)
{
	return same_owner(a, b) && a->type == b->type;
}

static bool same_rr(const ct_zonefile_rr_t *a, const ct_zonefile_rr_t *b)
{
	return same_rrset(a, b) && a->rdlen == b->rdlen &&
	       memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

/* Types that may sit beside a CNAME or at a delegation as DNSSEC companions (RFC 4035 2.5). */
static bool dnssec_type(uint16_t type)
{
	return type == LDNS_RR_TYPE_RRSIG || type == LDNS_RR_TYPE_NSEC;
}

static bool address_type(uint16_t type)
{
	return type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA;
}

/* Drop records that are not in the zone (reported) and identical repeats (RFC 2181 5). */
static void drop_outside(ct_zonefile_t *zf)
{
	char name[CT_DNAME_STRLEN], apex[CT_DNAME_STRLEN];
	size_t o = 0;
	ct_dname_to_str(zf->apex, apex);
	for (size_t i = 0; i < zf->count; i++) {
		ct_zonefile_rr_t *rr = &zf->rr[i];
		if (!ct_dname_in(rr->owner, zf->apex)) {
			rr_error(zf, rr, "%s is outside the zone %s",
			         ct_dname_to_str(rr->owner, name), apex);
			free(rr->owner);
			continue;
		}
		zf->rr[o++] = *rr;
	}
	zf->count = o;
}

/* After unify_ttl: repeats differ at most in reading order. */
static void merge_duplicates(ct_zonefile_t *zf)
{
	size_t o = 0;
	for (size_t i = 0; i < zf->count; i++) {
		ct_zonefile_rr_t *rr = &zf->rr[i];
		if (o > 0 && same_rr(&zf->rr[o - 1], rr)) {
			free(rr->owner);
			continue;
		}
		zf->rr[o++] = *rr;
	}
	zf->count = o;
}

/* Records [b, e) are one owner+type: give them the lowest TTL, warning once (RFC 2181 5.2). */
static void unify_ttl(ct_zonefile_t *zf, size_t b, size_t e)
{
	const ct_zonefile_rr_t *first = &zf->rr[b], *other = NULL;
	uint32_t min = zf->rr[b].ttl;
	for (size_t i = b; i < e; i++) {
		if (zf->rr[i].seq < first->seq) {
			first = &zf->rr[i];
		}
		if (zf->rr[i].ttl < min) {
			min = zf->rr[i].ttl;
		}
	}
	for (size_t i = b; i < e; i++) {
		if (zf->rr[i].ttl != first->ttl && (other == NULL || zf->rr[i].seq < other->seq)) {
			other = &zf->rr[i];
		}
	}
	if (other != NULL) {
		char name[CT_DNAME_STRLEN], type[16], loc[300];
		tell(zf, CT_LOG_WARNING, zf->files[other->file], other->line,
		     "TTL %u of %s %s differs from TTL %u at %s; the whole set gets %u "
		     "(RFC 2181 5.2)",
		     other->ttl, ct_dname_to_str(other->owner, name),
		     type_str(other->type, type, sizeof(type)), first->ttl,
		     where(zf, other, first, loc, sizeof(loc)), min);
	}
	for (size_t i = b; i < e; i++) {
		zf->rr[i].ttl = min;
	}
}

/* The record of [b, e) read first for which pick() holds, or NULL. */
static const ct_zonefile_rr_t *first_of(const ct_zonefile_t *zf, size_t b, size_t e,
                                        bool (*pick)(uint16_t type, uint16_t arg), uint16_t arg)
{
	const ct_zonefile_rr_t *best = NULL;
	for (size_t i = b; i < e; i++) {
		const ct_zonefile_rr_t *rr = &zf->rr[i];
		if (pick(rr->type, arg) && (best == NULL || rr->seq < best->seq)) {
			best = rr;
		}
	}
	return best;
}

static bool is_type(uint16_t type, uint16_t want)
{
	return type == want;
}

static bool beside_cname(uint16_t type, uint16_t unused)
{
	return type != LDNS_RR_TYPE_CNAME && !dnssec_type(type);
}

static bool allowed_at_cut(uint16_t type)
{
	return type == LDNS_RR_TYPE_NS || type == LDNS_RR_TYPE_DS || address_type(type) ||
	       dnssec_type(type) || type == LDNS_RR_TYPE_CNAME /* reported as a CNAME error */;
}

typedef struct {
	const ct_zonefile_rr_t *cut; /* the delegation we are below, if any */
	const ct_zonefile_rr_t *apex_soa;
	bool apex_seen;
	char apex[CT_DNAME_STRLEN];
} walk_t;

/* The zone apex: records [b, e) are at it. */
static void check_apex(ct_zonefile_t *zf, walk_t *w, size_t b, size_t e)
{
	const ct_zonefile_rr_t *cname = first_of(zf, b, e, is_type, LDNS_RR_TYPE_CNAME);
	const ct_zonefile_rr_t *soa = first_of(zf, b, e, is_type, LDNS_RR_TYPE_SOA);
	const ct_zonefile_rr_t *ns = first_of(zf, b, e, is_type, LDNS_RR_TYPE_NS);
	w->apex_seen = true;
	w->apex_soa = soa;
	if (cname != NULL) {
		rr_error(
		    zf, cname,
		    "CNAME at the apex %s is not allowed; the apex holds the SOA and NS records",
		    w->apex);
	}
	for (size_t i = b; i < e && soa != NULL; i++) {
		const ct_zonefile_rr_t *rr = &zf->rr[i];
		char loc[300];
		if (rr->type == LDNS_RR_TYPE_SOA && rr != soa) {
			rr_error(
			    zf, rr,
			    "second SOA record for %s (the first is at %s); a zone has exactly "
			    "one",
			    w->apex, where(zf, rr, soa, loc, sizeof(loc)));
		}
	}
	if (soa == NULL) {
		rr_error(zf, &zf->rr[b], "no SOA record at the zone apex %s; add one", w->apex);
	} else if (ns == NULL) {
		rr_error(zf, soa, "no NS record at the zone apex %s; add the zone's name servers",
		         w->apex);
	}
}

/*
 * Report each type of records [b, e) (one name, at or below the delegation ns) that may not
 * be there, once per type. An SOA there has been reported already.
 */
static void refuse_types(ct_zonefile_t *zf, size_t b, size_t e, bool (*allowed)(uint16_t type),
                         const ct_zonefile_rr_t *ns, const char *what, const char *only)
{
	char name[CT_DNAME_STRLEN], type[16], loc[300];
	for (size_t i = b; i < e; i++) {
		const ct_zonefile_rr_t *rr = &zf->rr[i];
		if (allowed(rr->type) || rr->type == LDNS_RR_TYPE_SOA ||
		    (i > b && rr->type == zf->rr[i - 1].type)) {
			continue;
		}
		rr_error(zf, rr, "%s at %s is %s (NS at %s); only %s may be there",
		         type_str(rr->type, type, sizeof(type)), ct_dname_to_str(rr->owner, name),
		         what, where(zf, rr, ns, loc, sizeof(loc)), only);
	}
}

/* Records [b, e) are at one name below the apex. */
static void check_node(ct_zonefile_t *zf, walk_t *w, size_t b, size_t e)
{
	const ct_zonefile_rr_t *first = &zf->rr[b];
	char name[CT_DNAME_STRLEN], cut[CT_DNAME_STRLEN], type[16], loc[300];
	ct_dname_to_str(first->owner, name);
	if (w->cut != NULL && !ct_dname_in(first->owner, w->cut->owner)) {
		w->cut = NULL;
	}
	for (size_t i = b; i < e; i++) {
		const ct_zonefile_rr_t *rr = &zf->rr[i];
		if (rr->type == LDNS_RR_TYPE_SOA) {
			rr_error(zf, rr, "SOA at %s is not at the zone apex %s", name, w->apex);
		}
	}
	if (w->cut != NULL) {
		/* Below a zone cut only glue may be (RFC 1034 4.2.1). */
		char what[CT_DNAME_STRLEN + 32];
		snprintf(what, sizeof(what), "below the delegation to %s",
		         ct_dname_to_str(w->cut->owner, cut));
		refuse_types(zf, b, e, address_type, w->cut, what, "glue A/AAAA records");
		return;
	}
	const ct_zonefile_rr_t *cname = first_of(zf, b, e, is_type, LDNS_RR_TYPE_CNAME);
	if (cname != NULL) {
		/* RFC 1034 3.6.2, RFC 2181 10.1: a CNAME and other data cannot share a name. */
		const ct_zonefile_rr_t *other = first_of(zf, b, e, beside_cname, 0);
		for (size_t i = b; i < e && other == NULL; i++) {
			if (zf->rr[i].type == LDNS_RR_TYPE_CNAME && &zf->rr[i] != cname) {
				other = &zf->rr[i];
			}
		}
		if (other != NULL) {
			rr_error(
			    zf, cname,
			    "CNAME at %s must be the only record there (there is also %s at %s)",
			    name, type_str(other->type, type, sizeof(type)),
			    where(zf, cname, other, loc, sizeof(loc)));
		}
	}
	const ct_zonefile_rr_t *ns = first_of(zf, b, e, is_type, LDNS_RR_TYPE_NS);
	if (ns != NULL) {
		w->cut = ns;
		refuse_types(zf, b, e, allowed_at_cut, ns, "at a delegation",
		             "NS, DS and glue A/AAAA records");
	}
}

/* The apex: --origin, else the owner of the first SOA read. */
static int find_apex(ct_zonefile_t *zf)
{
	const ct_zonefile_rr_t *soa = NULL;
	for (size_t i = 0; i < zf->count; i++) {
		if (zf->rr[i].type == LDNS_RR_TYPE_SOA &&
		    (soa == NULL || zf->rr[i].seq < soa->seq)) {
			soa = &zf->rr[i];
		}
	}
	if (!zf->have_apex) {
		if (soa == NULL) {
			tell(zf, CT_LOG_ERR, zf->nfiles ? zf->files[0] : NULL, 0,
			     "no SOA record, so the zone apex is unknown; add an SOA record at "
			     "the apex (a zone has exactly one)");
			return CT_EZONE;
		}
		memcpy(zf->apex, soa->owner, ct_dname_len(soa->owner));
		zf->have_apex = true;
	} else if (soa != NULL && ct_dname_eq(soa->owner, zf->apex)) {
		memcpy(zf->apex, soa->owner, ct_dname_len(soa->owner)); /* its letter case */
	}
	return CT_EOK;
}

int ct_zonefile_validate(ct_zonefile_t *zf)
{
	unsigned errors = zf->errors;
	zf->validated = false;
	if (zf->nfiles == 0) {
		return CT_EINVAL; /* nothing was read */
	}
	int ret = find_apex(zf);
	if (ret != CT_EOK) {
		return ret;
	}
	walk_t w = { 0 };
	ct_dname_to_str(zf->apex, w.apex);
	drop_outside(zf);
	if (zf->count > 0) {
		qsort(zf->rr, zf->count, sizeof(*zf->rr), rr_cmp); /* rr may be NULL when empty */
	}
	for (size_t b = 0, e; b < zf->count; b = e) {
		for (e = b + 1; e < zf->count && same_rrset(&zf->rr[b], &zf->rr[e]); e++) {
		}
		unify_ttl(zf, b, e);
	}
	merge_duplicates(zf);

	uint8_t apex_key[CT_KEY_MAXLEN];
	size_t apex_key_len = ct_dname_key(zf->apex, apex_key);
	zf->rrsets = 0;
	for (size_t b = 0, e; b < zf->count; b = e) {
		for (e = b + 1; e < zf->count && same_owner(&zf->rr[b], &zf->rr[e]); e++) {
		}
		if (zf->rr[b].key_len == apex_key_len) {
			check_apex(zf, &w, b, e);
		} else {
			check_node(zf, &w, b, e);
		}
		for (size_t i = b; i < e; i++) {
			zf->rrsets += i == b || zf->rr[i].type != zf->rr[i - 1].type;
		}
	}
	if (!w.apex_seen) {
		tell(zf, CT_LOG_ERR, zf->files[0], 0,
		     "no SOA and NS records at the zone apex %s; add them", w.apex);
	}
	report_suppressed(zf);
	if (zf->errors != errors) {
		return CT_EZONE;
	}
	/* SOA rdata: MNAME RNAME SERIAL ...; ldns made sure of its shape. */
	const ct_zonefile_rr_t *soa = w.apex_soa;
	int m = ct_dname_check(soa->rdata, soa->rdlen);
	int r = m < 0 ? m : ct_dname_check(soa->rdata + m, soa->rdlen - (size_t)m);
	if (m < 0 || r < 0 || (size_t)(m + r + 20) != soa->rdlen) {
		rr_error(zf, soa, "malformed SOA rdata");
		return CT_EZONE;
	}
	zf->file_serial = ct_get32(soa->rdata + m + r);
	zf->validated = true;
	return CT_EOK;
}

/* RFC 1982 3.2: a is greater than b. */
static bool serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

int ct_zonefile_write(ct_zonefile_t *zf, ct_txn_t *txn)
{
	if (txn->ret != CT_EOK) {
		return txn->ret;
	}
	if (!zf->validated) {
		txn->ret = CT_EINVAL;
		return txn->ret;
	}
	ct_store_t *st = txn->store;
	uint8_t apex_key[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN];
	size_t apex_len = ct_dname_key(zf->apex, apex_key);
	MDB_val v;
	ct_zone_t zone = { 0 };

	zf->serial = zf->file_serial;
	zf->replaced = false;
	if (ct_txn_get(txn, st->zones, apex_key, apex_len, &v)) {
		if (ct_zone_parse(&v, &zone) != CT_EOK) {
			txn->ret = CT_EDBCORRUPT;
			return txn->ret;
		}
		zf->replaced = true;
		zf->old_serial = zone.serial;
		if (!serial_gt(zf->file_serial, zone.serial)) {
			zf->serial = zone.serial + 1; /* every change bumps the serial */
		}
	}
	if (txn->ret != CT_EOK) {
		return txn->ret;
	}

	/* Old records go; pools (another db) stay. The 0x00 ends the apex: see ct_rr_key. */
	memcpy(key, apex_key, apex_len);
	key[apex_len] = 0x00;
	ct_txn_del_prefix(txn, st->rrsets, key, apex_len + 1);

	for (size_t b = 0, e; b < zf->count && txn->ret == CT_EOK; b = e) {
		const ct_zonefile_rr_t *first = &zf->rr[b];
		ct_rrset_builder_t rb;
		int ret = ct_rrset_builder_init(&rb, first->ttl);
		for (e = b; e < zf->count && same_rrset(first, &zf->rr[e]); e++) {
			const ct_zonefile_rr_t *rr = &zf->rr[e];
			if (ret != CT_EOK) {
				continue;
			}
			if (rr->type == LDNS_RR_TYPE_SOA) {
				uint8_t soa[2 * CT_DNAME_MAXLEN + 20];
				memcpy(soa, rr->rdata, rr->rdlen);
				ct_put32(soa + rr->rdlen - 20, zf->serial);
				ret = ct_rrset_builder_add(&rb, soa, rr->rdlen);
			} else {
				ret = ct_rrset_builder_add(&rb, rr->rdata, rr->rdlen);
			}
		}
		if (ret == CT_EOK) {
			size_t klen =
			    ct_rr_key(key, first->key, first->key_len, apex_len, first->type);
			ct_txn_put(txn, st->rrsets, key, klen, rb.buf, rb.len);
		} else if (txn->ret == CT_EOK) {
			txn->ret = ret;
		}
		ct_rrset_builder_deinit(&rb);
	}

	zone.serial = zf->serial;
	memcpy(zone.apex, zf->apex, ct_dname_len(zf->apex));
	ct_zone_put(txn, apex_key, apex_len, &zone);

	/* The zone's pools stay: their names exist again through their markers, unless the new
	 * records now clash with one (then nothing is written). */
	char err[512];
	if (txn->ret == CT_EOK &&
	    ct_pool_restore_markers(txn, apex_key, apex_len, err, sizeof(err)) != CT_EOK) {
		tell(zf, CT_LOG_ERR, zf->files[0], 0, "%s", err);
	}
	return txn->ret;
}

/*
 * Export. Rdata goes through ldns for its presentation form; we parse that text back and
 * compare the wire, falling back to the RFC 3597 generic form, so an export always imports
 * back to the same bytes.
 */

static char *generic_rdata(const uint8_t *rd, uint16_t rdlen)
{
	char *text = malloc(16 + 2 * (size_t)rdlen);
	if (text == NULL) {
		return NULL;
	}
	int n = sprintf(text, "\\# %u%s", rdlen, rdlen ? " " : "");
	for (uint16_t i = 0; i < rdlen; i++) {
		n += sprintf(text + n, "%02x", rd[i]);
	}
	return text;
}

/* True if "<type> <text>" parses to exactly rd. */
static bool reads_back(const char *type, const char *text, const uint8_t *rd, uint16_t rdlen)
{
	bool same = false;
	ldns_rr *rr = NULL;
	ldns_buffer *wire = NULL;
	size_t len = strlen(type) + strlen(text) + 16;
	char *line = malloc(len);
	if (line == NULL) {
		return false;
	}
	snprintf(line, len, ". 0 IN %s %s", type, text);
	if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK) {
		goto out;
	}
	wire = ldns_buffer_new(rdlen + 16u);
	if (wire != NULL && ldns_rr_rdata2buffer_wire(wire, rr) == LDNS_STATUS_OK) {
		same = ldns_buffer_position(wire) == rdlen &&
		       memcmp(ldns_buffer_begin(wire), rd, rdlen) == 0;
	}
out:
	ldns_buffer_free(wire);
	ldns_rr_free(rr);
	free(line);
	return same;
}

/* The presentation form of one rdata, as ldns prints it; NULL if that would not read back. */
static char *ldns_rdata(uint16_t type, const char *type_name, const uint8_t *rd, uint16_t rdlen)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	if (rdlen == 0 || d == NULL || d->_type != type || d->_name == NULL) {
		return NULL;
	}
	char *text = NULL;
	ldns_buffer *out = NULL;
	uint8_t *wire = malloc(2 + (size_t)rdlen);
	ldns_rr *rr = ldns_rr_new();
	if (wire == NULL || rr == NULL) {
		goto out;
	}
	ct_put16(wire, rdlen);
	memcpy(wire + 2, rd, rdlen);
	ldns_rr_set_type(rr, type);
	size_t pos = 0;
	if (ldns_wire2rdf(rr, wire, 2 + (size_t)rdlen, &pos) != LDNS_STATUS_OK ||
	    pos != 2 + (size_t)rdlen) {
		goto out;
	}
	out = ldns_buffer_new(256);
	if (out == NULL) {
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0 && ldns_buffer_printf(out, " ") < 0) {
			goto out;
		}
		if (ldns_rdf2buffer_str(out, ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK) {
			goto out;
		}
	}
	if (ldns_buffer_status(out) != LDNS_STATUS_OK || !ldns_buffer_reserve(out, 1)) {
		goto out;
	}
	ldns_buffer_write_u8(out, 0);
	if (reads_back(type_name, (const char *)ldns_buffer_begin(out), rd, rdlen)) {
		text = strdup((const char *)ldns_buffer_begin(out));
	}
out:
	ldns_buffer_free(out);
	ldns_rr_free(rr);
	free(wire);
	return text;
}

static int print_rrset(FILE *out, const uint8_t *owner, int rel_labels, uint16_t type,
                       const MDB_val *val)
{
	ct_rrset_t set;
	if (ct_rrset_parse(val, &set) != CT_EOK) {
		return CT_EDBCORRUPT;
	}
	char name[CT_DNAME_STRLEN], tbuf[16];
	const char *tname = type_str(type, tbuf, sizeof(tbuf));
	relative_str(owner, rel_labels, name);
	/* ldns reads an owner of fewer than LDNS_MAX_DOMAINLEN characters, and escapes (\DDD)
	 * make some names of fewer octets longer than that: such an owner is written as its
	 * first label under an $ORIGIN of its parent, then the zone's $ORIGIN comes back */
	bool deep = strlen(name) >= LDNS_MAX_DOMAINLEN;
	char origin[CT_DNAME_STRLEN];
	if (deep) {
		fprintf(out, "$ORIGIN %s\n", ct_dname_to_str(ct_dname_skip(owner, 1), origin));
		relative_str(owner, 1, name);
	}
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	while (ct_rrset_next(&set, &pos, &rd, &rdlen)) {
		char *text = ldns_rdata(type, tname, rd, rdlen);
		if (text == NULL) {
			text = generic_rdata(rd, rdlen);
		}
		if (text == NULL) {
			return CT_ENOMEM;
		}
		fprintf(out, "%s\t%u\tIN\t%s\t%s\n", name, set.ttl, tname, text);
		free(text);
	}
	if (deep) {
		fprintf(out, "$ORIGIN %s\n",
		        ct_dname_to_str(ct_dname_skip(owner, rel_labels), origin));
	}
	return CT_EOK;
}

int ct_zonefile_export(ct_txn_t *txn, const uint8_t *apex, FILE *out)
{
	ct_store_t *st = txn->store;
	uint8_t apex_key[CT_KEY_MAXLEN], key[CT_RR_KEY_MAXLEN], owner_key[CT_KEY_MAXLEN];
	uint8_t owner[CT_DNAME_MAXLEN];
	char text[CT_DNAME_STRLEN];
	size_t apex_len = ct_dname_key(apex, apex_key);
	ct_zone_t zone;
	MDB_val k, v;

	if (!ct_txn_get(txn, st->zones, apex_key, apex_len, &v)) {
		return txn->ret != CT_EOK ? txn->ret : CT_ENOZONE;
	}
	if (ct_zone_parse(&v, &zone) != CT_EOK) {
		return CT_EDBCORRUPT;
	}
	int labels = ct_dname_labels(zone.apex);
	ct_dname_to_str(zone.apex, text);
	fprintf(out, "; zone %s, serial %u, exported by cutover\n$ORIGIN %s\n", text, zone.serial,
	        text);

	/* The SOA first, though it does not sort first. */
	size_t klen = ct_rr_key(key, apex_key, apex_len, apex_len, LDNS_RR_TYPE_SOA);
	if (!ct_txn_get(txn, st->rrsets, key, klen, &v)) {
		return txn->ret != CT_EOK ? txn->ret : CT_EDBCORRUPT;
	}
	int ret = print_rrset(out, zone.apex, 0, LDNS_RR_TYPE_SOA, &v);
	memcpy(key, apex_key, apex_len);
	key[apex_len] = 0x00;
	bool found = ret == CT_EOK && ct_txn_seek(txn, st->rrsets, key, apex_len + 1, &k, &v);
	for (; found && ct_key_has_prefix(&k, key, apex_len + 1);
	     found = ct_txn_next(txn, st->rrsets, &k, &v)) {
		size_t olen, alen;
		uint16_t type;
		if (ct_rr_key_split(&k, owner_key, &olen, &alen, &type) != CT_EOK ||
		    alen != apex_len || ct_dname_from_key(owner_key, olen, owner) < 0) {
			ret = CT_EDBCORRUPT;
			break;
		}
		if ((olen == apex_len && type == LDNS_RR_TYPE_SOA) ||
		    (v.mv_size > 0 && ((uint8_t *)v.mv_data)[0] == CT_VALUE_POOLREF)) {
			continue; /* pools are exported by export-pools */
		}
		ret = print_rrset(out, owner, ct_dname_labels(owner) - labels, type, &v);
		if (ret != CT_EOK) {
			break;
		}
	}
	if (ret == CT_EOK && txn->ret != CT_EOK) {
		ret = txn->ret;
	}
	if (ret == CT_EOK && (fflush(out) != 0 || ferror(out))) {
		ret = -EIO;
	}
	return ret;
}
