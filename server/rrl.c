/* SPDX-License-Identifier: MIT */
/* Response Rate Limiting: classify a response, find its token bucket, and drop or slip it. */
#include "cutover/rrl.h"
#include "cutover/dname.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/select.h"
#include "cutover/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RRL_PROBES 4     /* buckets looked at from a key's place */
#define RRL_COST   1000  /* credit one response takes (credit is in thousandths) */
#define RRL_FULL_MS 1000 /* an idle bucket is full again after a second: the burst is the rate */
#define RRL_LARGE  1024  /* answers this big are a class of their own (amplification) */

static const char *const class_names[CT_RRL_CLASSES] = {
	"positive", "empty", "nxdomain", "error", "any", "large",
};

const char *ct_rrl_class_name(int cls)
{
	return cls >= 0 && cls < CT_RRL_CLASSES ? class_names[cls] : "other";
}

int ct_rrl_init(ct_rrl_t *rrl, const ct_rrl_conf_t *conf)
{
	memset(rrl, 0, sizeof(*rrl));
	if (conf->rate == 0 || conf->rate > CT_RRL_MAX_RATE || conf->table_size == 0 ||
	    conf->table_size > CT_RRL_MAX_TABLE || conf->ipv4_prefix > 32 ||
	    conf->ipv6_prefix > 128) {
		return CT_EINVAL;
	}
	rrl->conf = *conf;
	if (getrandom(&rrl->seed, sizeof(rrl->seed), 0) != sizeof(rrl->seed)) {
		rrl->seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull; /* still spreads keys */
	}
	/* calloc: zeroed pages come from the kernel untouched until a bucket is used */
	rrl->buckets = calloc(conf->table_size, sizeof(*rrl->buckets));
	return rrl->buckets != NULL ? CT_EOK : CT_ENOMEM;
}

void ct_rrl_deinit(ct_rrl_t *rrl)
{
	free(rrl->buckets);
	rrl->buckets = NULL;
}

uint32_t ct_rrl_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* The response's class, from its header, question and size (we wrote it: it is well formed). */
static int classify(const uint8_t *resp, size_t len, uint16_t qtype)
{
	int rcode = resp[3] & 0x0F;
	uint16_t an = ct_wire_count(resp, CT_SEC_ANSWER), ns = ct_wire_count(resp, CT_SEC_AUTHORITY);
	if (rcode == CT_RCODE_NXDOMAIN) {
		return CT_RRL_NXDOMAIN;
	}
	/* NODATA carries the SOA and a referral the NS: nothing in either section is an error
	 * whose RCODE is in the OPT record (BADVERS) */
	if (rcode != CT_RCODE_NOERROR || (an == 0 && ns == 0)) {
		return CT_RRL_ERROR;
	}
	if (qtype == CT_TYPE_ANY) {
		return CT_RRL_ANY;
	}
	if (len >= RRL_LARGE) {
		return CT_RRL_LARGE;
	}
	return an == 0 ? CT_RRL_EMPTY : CT_RRL_POSITIVE;
}

/* The client's address as family and bytes; an IPv4-mapped IPv6 address counts as IPv4. */
static bool client_addr(const struct sockaddr *src, int *family, const uint8_t **addr)
{
	if (src->sa_family == AF_INET) {
		*family = AF_INET;
		*addr = (const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr;
		return true;
	}
	if (src->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)src)->sin6_addr;
		bool mapped = IN6_IS_ADDR_V4MAPPED(a);
		*family = mapped ? AF_INET : AF_INET6;
		*addr = a->s6_addr + (mapped ? 12 : 0);
		return true;
	}
	return false;
}

/*
 * The bucket key: the client prefix, the class, and for the classes counted per name the
 * query type and the case-folded name (a resolver asks in any letter case). Never 0.
 */
static uint64_t bucket_key(const ct_rrl_t *rrl, int family, const uint8_t *addr, int cls,
                           uint16_t qtype, const uint8_t *qname)
{
	unsigned prefix = family == AF_INET ? rrl->conf.ipv4_prefix : rrl->conf.ipv6_prefix;
	uint64_t h = ct_select_client_hash(family, addr, prefix) ^ rrl->seed;
	h = (h ^ (uint64_t)cls) * 0x100000001b3ULL;
	if (cls != CT_RRL_NXDOMAIN && cls != CT_RRL_ERROR && qname != NULL) {
		h = (h ^ qtype) * 0x100000001b3ULL;
		for (size_t i = 0; qname[i] != 0; i += 1 + (size_t)qname[i]) {
			for (size_t j = i + 1; j <= i + qname[i]; j++) {
				uint8_t c = qname[j];
				h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 0x100000001b3ULL;
			}
			h = (h ^ '.') * 0x100000001b3ULL;
		}
	}
	h ^= h >> 29;
	h *= 0xC2B2AE3D27D4EB4Full; /* spread FNV's low-bit bias over the place (high) bits */
	h ^= h >> 32;
	return h != 0 ? h : 1;
}

static inline uint64_t state_of(uint64_t credit, uint32_t stamp)
{
	return credit << 32 | stamp;
}

/*
 * The key's bucket among RRL_PROBES places; a new key takes a free bucket or the longest idle
 * one, full (a bucket idle for a second would be full again anyway). Taking one that was used
 * in the last second loses its count: that is counted as an eviction.
 */
static ct_rrl_bucket_t *bucket_get(ct_rrl_t *rrl, ct_rrl_stats_t *st, uint64_t key, uint32_t now)
{
	size_t size = rrl->conf.table_size;
	size_t i = (size_t)(((key >> 32) * (uint64_t)size) >> 32); /* no division */
	ct_rrl_bucket_t *victim = NULL;
	uint32_t victim_idle = 0;
	for (int p = 0; p < RRL_PROBES; p++) {
		ct_rrl_bucket_t *b = &rrl->buckets[i];
		uint64_t k = atomic_load_explicit(&b->key, memory_order_relaxed);
		if (k == key) {
			return b;
		}
		int32_t idle = (int32_t)(now - (uint32_t)atomic_load_explicit(
		                                   &b->state, memory_order_relaxed));
		uint32_t age = k == 0 ? UINT32_MAX : idle < 0 ? 0 : (uint32_t)idle;
		if (victim == NULL || age > victim_idle) {
			victim = b;
			victim_idle = age;
		}
		i = i + 1 == size ? 0 : i + 1;
	}
	if (victim_idle < RRL_FULL_MS) {
		ct_counter_inc(&st->evicted);
	}
	atomic_store_explicit(&victim->state,
	                      state_of((uint64_t)rrl->conf.rate * RRL_COST, now),
	                      memory_order_relaxed);
	atomic_store_explicit(&victim->limited, 0, memory_order_relaxed);
	atomic_store_explicit(&victim->key, key, memory_order_relaxed);
	return victim;
}

enum { TAKE_LIMITED, TAKE_OK, TAKE_FULL };

/*
 * Refill the bucket for the time since its stamp (rate thousandths a millisecond, up to one
 * second's worth), then take one response's credit: TAKE_OK when there was enough, TAKE_FULL
 * when the bucket was full (the client kept below the rate for a while). A clock behind the
 * stamp (another worker's later reading) refills nothing. One compare-and-swap, none when a
 * limited bucket had nothing to refill.
 */
static int bucket_take(ct_rrl_bucket_t *b, uint64_t rate, uint32_t now)
{
	uint64_t old = atomic_load_explicit(&b->state, memory_order_relaxed);
	for (;;) {
		uint32_t stamp = (uint32_t)old;
		uint64_t credit = old >> 32;
		int32_t dt = (int32_t)(now - stamp);
		if (dt > 0) {
			credit += rate * (uint64_t)(dt < RRL_FULL_MS ? dt : RRL_FULL_MS);
			if (credit > rate * RRL_COST) {
				credit = rate * RRL_COST;
			}
			stamp = now;
		}
		int took = credit == rate * RRL_COST ? TAKE_FULL
		           : credit >= RRL_COST      ? TAKE_OK
		                                     : TAKE_LIMITED;
		if (took != TAKE_LIMITED) {
			credit -= RRL_COST;
		} else if (dt <= 0) {
			return TAKE_LIMITED;
		}
		if (atomic_compare_exchange_weak_explicit(&b->state, &old, state_of(credit, stamp),
		                                          memory_order_relaxed,
		                                          memory_order_relaxed)) {
			return took;
		}
	}
}

/* One line when a bucket starts being limited (until it is full again), at most one a second
 * per worker. */
static void log_limiting(ct_rrl_t *rrl, ct_rrl_stats_t *st, int family, const uint8_t *addr,
                         int cls, const uint8_t *qname)
{
	if (!ct_log_ratelimit(&st->log_last)) {
		return;
	}
	unsigned prefix = family == AF_INET ? rrl->conf.ipv4_prefix : rrl->conf.ipv6_prefix;
	uint8_t masked[16] = { 0 };
	memcpy(masked, addr, prefix / 8);
	if (prefix % 8 != 0) {
		masked[prefix / 8] = (uint8_t)(addr[prefix / 8] & (0xFF << (8 - prefix % 8)));
	}
	char text[INET6_ADDRSTRLEN], name[CT_DNAME_STRLEN];
	inet_ntop(family, masked, text, sizeof(text));
	bool named = cls != CT_RRL_NXDOMAIN && cls != CT_RRL_ERROR && qname != NULL;
	log_info("rrl limiting client=%s/%u class=%s%s%s", text, prefix, class_names[cls],
	         named ? " name=" : "", named ? ct_dname_to_str(qname, name) : "");
}

/*
 * The slip reply, written over the response: header and question with TC set and no records
 * but the OPT (RFC 6891 7: an EDNS query gets an OPT back, and BADVERS lives in it). Returns
 * its length; the OPT is found by walking the records we wrote.
 */
static size_t slip_reply(uint8_t *resp, size_t len, size_t qend)
{
	size_t pos = qend, opt = 0, optlen = 0;
	int rrs = ct_wire_count(resp, CT_SEC_ANSWER) + ct_wire_count(resp, CT_SEC_AUTHORITY) +
	          ct_wire_count(resp, CT_SEC_ADDITIONAL);
	if (qend == CT_WIRE_HDRLEN && ct_get16(resp + 4) != 0) {
		rrs = 0; /* a question that does not parse: the records behind it cannot be found */
	}
	for (int i = 0; i < rrs; i++) {
		uint8_t owner[CT_DNAME_MAXLEN];
		size_t start = pos;
		if (ct_dname_unpack(resp, len, &pos, owner) < 0 || pos + 10 > len) {
			break;
		}
		size_t end = pos + 10 + ct_get16(resp + pos + 8);
		if (end > len) {
			break;
		}
		if (ct_get16(resp + pos) == CT_TYPE_OPT) {
			opt = start;
			optlen = end - start;
		}
		pos = end;
	}
	resp[2] |= 0x02; /* TC */
	memset(resp + 4, 0, 8);
	resp[5] = qend > CT_WIRE_HDRLEN; /* QDCOUNT: the question when there is one */
	if (optlen > 0) {
		memmove(resp + qend, resp + opt, optlen);
		ct_put16(resp + 10, 1);
	}
	return qend + optlen;
}

size_t ct_rrl_apply(ct_rrl_t *rrl, ct_rrl_stats_t *st, const struct sockaddr *src, uint8_t *resp,
                    size_t len, uint32_t now_ms)
{
	int family;
	const uint8_t *addr;
	if (rrl->buckets == NULL || len < CT_WIRE_HDRLEN || src == NULL ||
	    !client_addr(src, &family, &addr)) {
		return len;
	}
	/* the question, echoed as the client sent it: a plain name */
	const uint8_t *qname = NULL;
	uint16_t qtype = 0;
	size_t qend = CT_WIRE_HDRLEN;
	if (ct_get16(resp + 4) == 1) { /* QDCOUNT */
		int n = ct_dname_check(resp + CT_WIRE_HDRLEN, len - CT_WIRE_HDRLEN);
		if (n > 0 && CT_WIRE_HDRLEN + (size_t)n + 4 <= len) {
			qname = resp + CT_WIRE_HDRLEN;
			qtype = ct_get16(qname + n);
			qend = CT_WIRE_HDRLEN + (size_t)n + 4;
		}
	}
	int cls = classify(resp, len, qtype);
	uint64_t key = bucket_key(rrl, family, addr, cls, qtype, qname);
	ct_rrl_bucket_t *b = bucket_get(rrl, st, key, now_ms);
	int took = bucket_take(b, rrl->conf.rate, now_ms);
	if (took != TAKE_LIMITED) {
		/* a limiting episode (slip count, log line) ends once the client has kept below
		 * the rate long enough to fill the bucket, not at each answer the rate allows */
		if (took == TAKE_FULL &&
		    atomic_load_explicit(&b->limited, memory_order_relaxed) != 0) {
			atomic_store_explicit(&b->limited, 0, memory_order_relaxed);
		}
		return len;
	}
	ct_counter_inc(&st->limited[cls]);
	uint32_t n = atomic_fetch_add_explicit(&b->limited, 1, memory_order_relaxed) + 1;
	if (n == 1) {
		log_limiting(rrl, st, family, addr, cls, qname);
	}
	if (rrl->conf.slip == 0 || n % rrl->conf.slip != 0) {
		return 0;
	}
	ct_counter_inc(&st->slipped);
	return slip_reply(resp, len, qend);
}
