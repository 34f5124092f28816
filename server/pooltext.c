/* SPDX-License-Identifier: MIT */
/* The text forms of pools (types, policies, addresses, weights, shares, changes). */
#include "cutover/pooltext.h"
#include "cutover/checktext.h"
#include "cutover/wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const policy_names[] = { "weighted", "sticky", "failover" };

uint16_t ct_pooltext_type(const char *text)
{
	if (strcasecmp(text, "A") == 0) {
		return CT_TYPE_A;
	}
	if (strcasecmp(text, "AAAA") == 0) {
		return CT_TYPE_AAAA;
	}
	return 0;
}

const char *ct_pooltext_type_name(uint16_t type)
{
	return type == CT_TYPE_AAAA ? "AAAA" : "A";
}

int ct_pooltext_policy(const char *text)
{
	for (int i = 0; i < (int)(sizeof(policy_names) / sizeof(policy_names[0])); i++) {
		if (strcasecmp(text, policy_names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

const char *ct_pooltext_policy_name(uint8_t policy)
{
	return policy <= CT_POLICY_FAILOVER ? policy_names[policy] : "unknown";
}

bool ct_pooltext_addr(uint16_t type, const char *text, uint8_t *out, char *err, size_t errlen)
{
	uint8_t other[16];
	bool v6 = type == CT_TYPE_AAAA;
	memset(out, 0, 16);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, text, out) == 1) {
		return true;
	}
	if (inet_pton(v6 ? AF_INET : AF_INET6, text, other) == 1) {
		snprintf(err, errlen, "'%s' is an %s address; an %s pool takes %s addresses (%s)",
		         text, v6 ? "IPv4" : "IPv6", v6 ? "AAAA" : "A", v6 ? "IPv6" : "IPv4",
		         v6 ? "make an A pool for it" : "make an AAAA pool for it");
	} else {
		snprintf(err, errlen, "'%s' is not an %s address", text, v6 ? "IPv6" : "IPv4");
	}
	return false;
}

char *ct_pooltext_addr_str(uint16_t type, const uint8_t *addr, char *out)
{
	if (inet_ntop(type == CT_TYPE_AAAA ? AF_INET6 : AF_INET, addr, out, CT_POOLTEXT_ADDRLEN) ==
	    NULL) {
		snprintf(out, CT_POOLTEXT_ADDRLEN, "?");
	}
	return out;
}

bool ct_pooltext_uint(const char *text, uint32_t max, uint32_t *out)
{
	if (!isdigit((unsigned char)text[0]) || strlen(text) > 10) {
		return false;
	}
	for (const char *p = text; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p)) {
			return false;
		}
	}
	unsigned long long n = strtoull(text, NULL, 10);
	if (n > max) {
		return false;
	}
	*out = (uint32_t)n;
	return true;
}

void ct_pooltext_weights(FILE *out, const ct_pool_t *pool)
{
	for (int g = 0; g < pool->ngroups; g++) {
		fprintf(out, "%s%s=%u", g > 0 ? " " : "", pool->groups[g].name,
		        pool->groups[g].weight);
	}
}

static bool has_target(const ct_pool_t *pool, const ct_pool_group_t *gr, const uint8_t *addr)
{
	size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4;
	for (int t = 0; gr != NULL && t < gr->ntargets; t++) {
		if (memcmp(gr->targets[t], addr, alen) == 0) {
			return true;
		}
	}
	return false;
}

/* " +a +b -c": targets of gr missing from old (+) and of old missing from gr (-). */
static void target_diff(FILE *out, const ct_pool_t *pool, const ct_pool_group_t *old,
                        const ct_pool_group_t *gr)
{
	char text[CT_POOLTEXT_ADDRLEN];
	for (int t = 0; gr != NULL && t < gr->ntargets; t++) {
		if (!has_target(pool, old, gr->targets[t])) {
			fprintf(out, " +%s",
			        ct_pooltext_addr_str(pool->type, gr->targets[t], text));
		}
	}
	for (int t = 0; old != NULL && t < old->ntargets; t++) {
		if (!has_target(pool, gr, old->targets[t])) {
			fprintf(out, " -%s",
			        ct_pooltext_addr_str(pool->type, old->targets[t], text));
		}
	}
}

static bool same_targets(const ct_pool_t *pool, const ct_pool_group_t *a, const ct_pool_group_t *b)
{
	size_t alen = pool->type == CT_TYPE_AAAA ? 16 : 4;
	if (a->ntargets != b->ntargets) {
		return false;
	}
	for (int t = 0; t < a->ntargets; t++) {
		if (memcmp(a->targets[t], b->targets[t], alen) != 0) {
			return false;
		}
	}
	return true;
}

static void preview_text(FILE *out, const ct_pool_t *pool)
{
	if (pool->flags & CT_POOL_NO_PREVIEW) {
		fputs("off", out);
	} else {
		fprintf(out, "\"%s\"", pool->preview_prefix);
	}
}

static void answers_text(FILE *out, uint16_t answers)
{
	if (answers == 0) {
		fputs("all", out);
	} else {
		fprintf(out, "%u", answers);
	}
}

/* The settings of b and a that differ, each as "; what old -> new". */
static void settings_diff(FILE *out, const ct_pool_t *b, const ct_pool_t *a)
{
	if (b->policy != a->policy) {
		fprintf(out, "; policy %s -> %s", ct_pooltext_policy_name(b->policy),
		        ct_pooltext_policy_name(a->policy));
	}
	if (b->ttl != a->ttl) {
		fprintf(out, "; ttl %u -> %u", b->ttl, a->ttl);
	}
	if (b->answers != a->answers) {
		fputs("; answers ", out);
		answers_text(out, b->answers);
		fputs(" -> ", out);
		answers_text(out, a->answers);
	}
	if ((b->flags & CT_POOL_NO_PREVIEW) != (a->flags & CT_POOL_NO_PREVIEW) ||
	    strcmp(b->preview_prefix, a->preview_prefix) != 0) {
		fputs("; preview ", out);
		preview_text(out, b);
		fputs(" -> ", out);
		preview_text(out, a);
	}
	ct_checktext_diff(out, b, a);
}

void ct_pooltext_change(FILE *out, const ct_pool_t *b, const ct_pool_t *a)
{
	if (b != NULL) {
		ct_pooltext_weights(out, b);
	} else {
		fputs("-", out);
	}
	fputs(" -> ", out);
	if (a != NULL) {
		ct_pooltext_weights(out, a);
	} else {
		fputs("-", out);
	}
	if (a == NULL) {
		return;
	}
	if (b != NULL) {
		settings_diff(out, b, a);
		for (int g = 0; g < b->ngroups; g++) {
			if (ct_pool_group_find(a, b->groups[g].name) < 0) {
				fprintf(out, "; -group %s", b->groups[g].name);
			}
		}
	} else {
		static const ct_pool_t none; /* a new pool: its check, if it has one */
		ct_checktext_diff(out, &none, a);
	}
	bool reordered = false;
	for (int g = 0; g < a->ngroups; g++) {
		const ct_pool_group_t *gr = &a->groups[g];
		int o = b != NULL ? ct_pool_group_find(b, gr->name) : -1;
		const ct_pool_group_t *old = o >= 0 ? &b->groups[o] : NULL;
		if (b != NULL && old == NULL) {
			fprintf(out, "; +group %s", gr->name);
			target_diff(out, a, NULL, gr);
		} else if (old == NULL ? gr->ntargets > 0 : !same_targets(a, old, gr)) {
			fprintf(out, "; %s", gr->name);
			target_diff(out, a, old, gr);
		}
		reordered |= o >= 0 && o != g;
	}
	if (reordered) {
		fputs("; group order ", out);
		for (int g = 0; g < b->ngroups; g++) {
			fprintf(out, "%s%s", g > 0 ? "," : "", b->groups[g].name);
		}
		fputs(" -> ", out);
		for (int g = 0; g < a->ngroups; g++) {
			fprintf(out, "%s%s", g > 0 ? "," : "", a->groups[g].name);
		}
	}
}

void ct_pooltext_history_change(FILE *out, const ct_history_t *h, const ct_pool_t *before,
                                const ct_pool_t *after)
{
	if (before != NULL && after != NULL && h->before_len == h->after_len &&
	    memcmp(h->before, h->after, h->after_len) == 0) {
		fputs("pool unchanged (", out);
		ct_pooltext_weights(out, after);
		fputc(')', out);
		return;
	}
	ct_pooltext_change(out, before, after);
}

void ct_pooltext_shares(const ct_pool_t *pool, double *share)
{
	uint64_t total = 0;
	int live = 0, first = -1, first_weighted = -1;
	for (int g = 0; g < pool->ngroups; g++) {
		share[g] = 0;
		if (pool->groups[g].ntargets == 0) {
			continue;
		}
		total += pool->groups[g].weight;
		live++;
		if (first < 0) {
			first = g;
		}
		if (first_weighted < 0 && pool->groups[g].weight > 0) {
			first_weighted = g;
		}
	}
	if (live == 0) {
		return;
	}
	if (pool->policy == CT_POLICY_FAILOVER) {
		share[first_weighted >= 0 ? first_weighted : first] = 100.0;
		return;
	}
	for (int g = 0; g < pool->ngroups; g++) {
		if (pool->groups[g].ntargets == 0) {
			continue;
		}
		share[g] =
		    total == 0 ? 100.0 / live : 100.0 * pool->groups[g].weight / (double)total;
	}
}

char *ct_pooltext_label(const uint8_t *owner, uint16_t type, char *out)
{
	ct_dname_to_str(owner, out);
	size_t n = strlen(out);
	snprintf(out + n, CT_POOLTEXT_LABELLEN - n, " %s", ct_pooltext_type_name(type));
	return out;
}

char *ct_pooltext_time(uint64_t time_ms, char *out)
{
	time_t secs = (time_t)(time_ms / 1000);
	struct tm tm;
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, CT_POOLTEXT_TIMELEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(out, CT_POOLTEXT_TIMELEN, "?");
	}
	return out;
}
