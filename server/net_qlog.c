/* SPDX-License-Identifier: MIT */
/* The optional query log: one key=value line per answered query, rate-limited per worker. */
#include "net.h"
#include "cutover/log.h"
#include "cutover/store.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

/*
 * Read back from the response what is logged: the question (echoed as the client sent it) and
 * the header. Costs a name conversion and a write(2) per line, so it is off by default and
 * limited to query_log_rate lines per second per worker; the rest are counted and reported.
 */
void net_query_log(worker_t *w, const struct sockaddr *src, bool tcp, const uint8_t *resp,
                   size_t len)
{
	long now = (long)time(NULL);
	if (now != w->qlog_second) {
		if (w->qlog_suppressed > 0) {
			log_info("query-log suppressed=%llu worker=%d rate=%u",
			         (unsigned long long)w->qlog_suppressed, w->id,
			         w->conf->query_log_rate);
		}
		w->qlog_second = now;
		w->qlog_lines = 0;
		w->qlog_suppressed = 0;
	}
	if (w->conf->query_log_rate > 0 && w->qlog_lines >= w->conf->query_log_rate) {
		w->qlog_suppressed++;
		return;
	}
	w->qlog_lines++;
	char client[INET6_ADDRSTRLEN] = "-";
	unsigned port = 0;
	if (src != NULL && src->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)src;
		inet_ntop(AF_INET, &in->sin_addr, client, sizeof(client));
		port = ntohs(in->sin_port);
	} else if (src != NULL && src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)src;
		inet_ntop(AF_INET6, &in6->sin6_addr, client, sizeof(client));
		port = ntohs(in6->sin6_port);
	}
	char name[CT_DNAME_STRLEN] = "-";
	char type[16] = "-";
	uint8_t qname[CT_DNAME_MAXLEN];
	size_t pos = 12;
	if (len >= 12 && ct_get16(resp + 4) > 0 && ct_dname_unpack(resp, len, &pos, qname) > 0 &&
	    pos + 4 <= len) {
		ct_dname_to_str(qname, name);
		uint16_t qtype = ct_get16(resp + pos);
		int t = ct_answer_stat_qtype(qtype);
		if (t == CT_STAT_QTYPES - 1) {
			snprintf(type, sizeof(type), "TYPE%u", qtype); /* RFC 3597 5 */
		} else {
			snprintf(type, sizeof(type), "%s", ct_answer_stat_qtype_name(t));
		}
	}
	/* the header's 4 RCODE bits: BADVERS (16) shows as its low bits' name, "NOERROR" */
	const char *rcode =
	    len >= 4 ? ct_answer_stat_rcode_name(ct_answer_stat_rcode(resp[3] & 0x0F)) : "-";
	log_info("query client=%s port=%u proto=%s name=%s qtype=%s rcode=%s aa=%d tc=%d size=%zu",
	         client, port, tcp ? "tcp" : "udp", name, type, rcode,
	         len >= 3 && (resp[2] & 0x04) ? 1 : 0, len >= 3 && (resp[2] & 0x02) ? 1 : 0, len);
}
