/* SPDX-License-Identifier: MIT */
/* UDP: drain the socket with recvmmsg, answer each datagram, reply with one sendmmsg. */
#include "net.h"
#include "cutover/log.h"

#include <errno.h>
#include <string.h>

int net_udp_add(worker_t *w, int idx, int fd)
{
	w->udp_fd[idx] = fd;
	w->udp_ev[idx] = event_new(w->base, fd, EV_READ | EV_PERSIST, net_udp_read, w);
	if (w->udp_ev[idx] == NULL || event_add(w->udp_ev[idx], NULL) != 0) {
		return -1;
	}
	return 0;
}

void net_udp_read(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	/* a bounded number of rounds, so one busy socket cannot starve the others */
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < NET_UDP_BATCH; i++) {
			w->rx_iov[i].iov_base = w->rx_buf[i];
			w->rx_iov[i].iov_len = NET_UDP_RXLEN;
			memset(&w->rx[i].msg_hdr, 0, sizeof(w->rx[i].msg_hdr));
			w->rx[i].msg_hdr.msg_iov = &w->rx_iov[i];
			w->rx[i].msg_hdr.msg_iovlen = 1;
			w->rx[i].msg_hdr.msg_name = &w->rx_addr[i];
			w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
		}
		int n = recvmmsg(fd, w->rx, NET_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    ct_log_ratelimit(&w->answer.log_last)) {
				log_warn("udp receive failed error=\"%s\"", strerror(errno));
			}
			return;
		}
		int m = 0;
		ct_answer_batch_begin(&w->answer); /* one snapshot for the datagrams read together */
		for (int i = 0; i < n; i++) {
			w->rx_token[i] = ct_answer_prefetch(&w->answer, w->rx_buf[i],
							    w->rx[i].msg_len);
		}
		ct_answer_prefetch_entry(&w->answer, w->rx_token[0]);
		for (int i = 0; i < n; i++) {
			if (i + 1 < n) {
				ct_answer_prefetch_entry(&w->answer, w->rx_token[i + 1]);
			}
			if (w->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
				/* larger than any query we accept */
				ct_counter_inc(&w->answer.dropped);
				continue;
			}
			size_t len = ct_answer(&w->answer, w->rx_buf[i], w->rx[i].msg_len, false,
					       (const struct sockaddr *)&w->rx_addr[i],
					       w->tx_buf[m], CT_EDNS_MAX_UDP);
			if (len > 0 && w->rrl != NULL) {
				len = ct_rrl_apply(w->rrl, &w->rrl_stats,
				                   (const struct sockaddr *)&w->rx_addr[i],
				                   w->tx_buf[m], len, ct_rrl_clock());
			}
			if (len == 0) {
				continue;
			}
			if (w->conf->query_log) {
				net_query_log(w, (const struct sockaddr *)&w->rx_addr[i], false,
				              w->tx_buf[m], len);
			}
			w->tx_iov[m].iov_base = w->tx_buf[m];
			w->tx_iov[m].iov_len = len;
			memset(&w->tx[m].msg_hdr, 0, sizeof(w->tx[m].msg_hdr));
			w->tx[m].msg_hdr.msg_iov = &w->tx_iov[m];
			w->tx[m].msg_hdr.msg_iovlen = 1;
			w->tx[m].msg_hdr.msg_name = &w->rx_addr[i];
			w->tx[m].msg_hdr.msg_namelen = w->rx[i].msg_hdr.msg_namelen;
			m++;
		}
		ct_answer_batch_end(&w->answer);
		for (int sent = 0; sent < m;) {
			int r = sendmmsg(fd, w->tx + sent, (unsigned)(m - sent), MSG_DONTWAIT);
			if (r <= 0) {
				if (ct_log_ratelimit(&w->answer.log_last)) {
					log_warn("udp send failed error=\"%s\"", strerror(errno));
				}
				/* skip the datagram the kernel refused, keep the rest */
				sent++;
				continue;
			}
			sent += r;
		}
		if (n < NET_UDP_BATCH) {
			return;
		}
	}
}
