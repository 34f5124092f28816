/* SPDX-License-Identifier: MIT */
/* TCP (RFC 7766): 2-byte length framing, pipelined queries, idle timeout, connection limit. */
#include "net.h"
#include "cutover/log.h"
#include "cutover/store.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define TCP_OUT_HIGH (256 * 1024) /* stop reading while this much output waits */
#define TCP_ACCEPT_PAUSE_MS 500   /* after accept() failed for want of descriptors */

typedef struct conn {
	worker_t *w;
	struct bufferevent *bev;
	struct event *idle;
	struct sockaddr_storage peer; /* sticky pools key on the client's address */
	struct conn *prev, *next; /* the worker's open connections, for shutdown */
} conn_t;

static void conn_close(conn_t *c)
{
	c->w->tcp_conns--;
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		c->w->tcp_list = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	event_free(c->idle);
	bufferevent_free(c->bev);
	free(c);
}

static void idle_arm(conn_t *c)
{
	struct timeval tv = { c->w->conf->tcp_idle_ms / 1000, (c->w->conf->tcp_idle_ms % 1000) * 1000 };
	evtimer_add(c->idle, &tv);
}

/* Idle means no complete query for tcp_idle_ms: a client trickling bytes is closed too. */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_close(arg);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	worker_t *w = c->w;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		uint8_t lenbuf[2];
		if (avail < 2) {
			break;
		}
		evbuffer_copyout(in, lenbuf, 2);
		size_t mlen = ct_get16(lenbuf);
		if (mlen == 0) {
			conn_close(c);
			return;
		}
		if (avail < 2 + mlen) {
			break;
		}
		evbuffer_drain(in, 2);
		evbuffer_remove(in, w->tcp_in, mlen);
		size_t rlen = ct_answer(&w->answer, w->tcp_in, mlen, true,
					(const struct sockaddr *)&c->peer, w->tcp_out + 2,
					NET_TCP_MAXMSG);
		if (rlen > 0) {
			if (w->conf->query_log) {
				net_query_log(w, (const struct sockaddr *)&c->peer, true,
				              w->tcp_out + 2, rlen);
			}
			ct_put16(w->tcp_out, (uint16_t)rlen);
			bufferevent_write(bev, w->tcp_out, rlen + 2);
		}
		idle_arm(c);
		if (evbuffer_get_length(bufferevent_get_output(bev)) > TCP_OUT_HIGH) {
			bufferevent_disable(bev, EV_READ); /* the client does not read: wait */
			break;
		}
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	/* output drained (low watermark 0): read again if we had stopped */
	bufferevent_enable(bev, EV_READ);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		conn_close(arg);
	}
}

static void accept_cb(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	worker_t *w = arg;
	if (w->tcp_conns >= w->conf->tcp_max_conns) {
		close(fd); /* over the limit: refuse rather than starve the others */
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->w = w;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
	}
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->idle = evtimer_new(w->base, idle_cb, c);
	if (c->bev == NULL || c->idle == NULL) {
		if (c->bev != NULL) {
			bufferevent_free(c->bev);
		} else {
			close(fd);
		}
		if (c->idle != NULL) {
			event_free(c->idle);
		}
		free(c);
		return;
	}
	w->tcp_conns++;
	c->next = w->tcp_list;
	if (c->next != NULL) {
		c->next->prev = c;
	}
	w->tcp_list = c;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 2, NET_TCP_MAXMSG + 2);
	struct timeval wt = { w->conf->tcp_idle_ms / 1000, (w->conf->tcp_idle_ms % 1000) * 1000 };
	bufferevent_set_timeouts(c->bev, NULL, &wt); /* a client that stops reading */
	bufferevent_enable(c->bev, EV_READ);
	idle_arm(c);
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	for (int i = 0; i < NET_MAX_LISTEN; i++) {
		if (w->tcp[i] != NULL) {
			evconnlistener_enable(w->tcp[i]);
		}
	}
}

/*
 * accept() failed for good (EMFILE, ENFILE, ENOBUFS...): the connection stays in the kernel's
 * backlog, so the listener stays readable and retrying at once spins a core (and libevent
 * would log every try). Stop accepting for a while, as NSD does; the backlog waits.
 */
static void accept_error(struct evconnlistener *lst, void *arg)
{
	worker_t *w = arg;
	int err = EVUTIL_SOCKET_ERROR();
	for (int i = 0; i < NET_MAX_LISTEN; i++) {
		if (w->tcp[i] != NULL) {
			evconnlistener_disable(w->tcp[i]);
		}
	}
	struct timeval tv = { 0, TCP_ACCEPT_PAUSE_MS * 1000 };
	evtimer_add(w->tcp_pause, &tv);
	if (ct_log_ratelimit(&w->answer.log_last)) {
		log_warn("tcp accept failed error=\"%s\" pause_ms=%d conns=%d", strerror(err),
		         TCP_ACCEPT_PAUSE_MS, w->tcp_conns);
	}
}

int net_tcp_add(worker_t *w, int idx, int fd)
{
	if (w->tcp_pause == NULL) {
		w->tcp_pause = evtimer_new(w->base, accept_resume, w);
		if (w->tcp_pause == NULL) {
			return -1;
		}
	}
	w->tcp[idx] = evconnlistener_new(w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (w->tcp[idx] == NULL) {
		return -1;
	}
	evconnlistener_set_error_cb(w->tcp[idx], accept_error);
	return 0;
}

bool net_tcp_nofile(const net_conf_t *conf, unsigned long long *have, unsigned long long *need)
{
	/* per worker: its connections, a UDP and a TCP socket per address, its event base;
	 * then the database, the prober's checks, the HTTP endpoint, logs */
	rlim_t want = (rlim_t)conf->threads * ((rlim_t)conf->tcp_max_conns + 2 * conf->nlisten + 4) +
	              256;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return true;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit up = { want, rl.rlim_max };
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
			up.rlim_cur = rl.rlim_max;
		}
		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			rl.rlim_cur = up.rlim_cur;
		}
	}
	*have = rl.rlim_cur == RLIM_INFINITY ? want : (unsigned long long)rl.rlim_cur;
	*need = (unsigned long long)want;
	return *have >= *need;
}

/* Close every connection, and free the accept pause timer (at the worker's end). */
void net_tcp_close_all(worker_t *w)
{
	while (w->tcp_list != NULL) {
		conn_close(w->tcp_list);
	}
	if (w->tcp_pause != NULL) {
		event_free(w->tcp_pause);
		w->tcp_pause = NULL;
	}
}
