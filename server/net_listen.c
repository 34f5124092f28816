/* SPDX-License-Identifier: MIT */
/* Listen addresses: parsing, checking that they are free, binding SO_REUSEPORT sockets. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool net_addr_parse(const char *text, net_addr_t *addr, char *err, size_t errlen)
{
	char host[64];
	const char *port = NULL;
	memset(addr, 0, sizeof(*addr));
	snprintf(addr->text, sizeof(addr->text), "%s", text);
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || (size_t)(end - text - 1) >= sizeof(host) ||
		    (end[1] != '\0' && end[1] != ':')) {
			snprintf(err, errlen, "'%s': expected [IPV6]:PORT", text);
			return false;
		}
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		port = end[1] == ':' ? end + 2 : NULL;
	} else {
		const char *colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			colon = NULL; /* a bare IPv6 address */
		}
		size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
		if (hlen >= sizeof(host)) {
			snprintf(err, errlen, "'%s': address too long", text);
			return false;
		}
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		port = colon ? colon + 1 : NULL;
	}
	long portnum = 53;
	if (port != NULL) {
		/* digits only (strtol would take blanks and a sign), at most 5: the text is kept
		 * in addr->text and printed back by --check-config */
		size_t digits = strspn(port, "0123456789");
		portnum = digits >= 1 && digits <= 5 && port[digits] == '\0' ? strtol(port, NULL, 10)
		                                                              : 0;
		if (portnum < 1 || portnum > 65535) {
			snprintf(err, errlen, "'%s': port must be a number from 1 to 65535", text);
			return false;
		}
	}
	struct sockaddr_in *in4 = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr->ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)portnum);
		addr->len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)portnum);
		addr->len = sizeof(*in6);
	} else {
		snprintf(err, errlen, "'%s': '%s' is not an IPv4 or IPv6 address", text, host);
		return false;
	}
	return true;
}

bool net_addr_check_free(const net_addr_t *addr, char *err, size_t errlen)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	for (int i = 0; i < 2; i++) {
		int fd = socket(addr->ss.ss_family, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "%s: socket: %s", addr->text, strerror(errno));
			return false;
		}
		int one = 1;
		/* TCP: ignore TIME_WAIT leftovers, still collide with a listener */
		if (types[i] == SOCK_STREAM) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		}
		if (addr->ss.ss_family == AF_INET6) {
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		}
		if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
			int e = errno;
			close(fd);
			snprintf(err, errlen, "%s (%s): cannot listen: %s%s", addr->text,
				 types[i] == SOCK_DGRAM ? "udp" : "tcp", strerror(e),
				 e == EADDRINUSE ? " (another server is using this port)"
				 : e == EADDRNOTAVAIL ? " (no interface has this address)"
				 : e == EACCES ? " (ports below 1024 need root)" : "");
			return false;
		}
		close(fd);
	}
	return true;
}

int net_socket_bind(const net_addr_t *addr, int type, bool reuseport, char *err, size_t errlen)
{
	int fd = socket(addr->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", addr->text, strerror(errno));
		return -1;
	}
	int one = 1;
	if (reuseport) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	}
	if (type == SOCK_STREAM) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (addr->ss.ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (type == SOCK_DGRAM) {
		/* Answers go out without DF and ignore ICMP "fragmentation needed": a forged one
		 * cannot shrink our path MTU to force fragments (as NSD, Knot and gdnsd do). */
		int omit = IP_PMTUDISC_OMIT;
		if (addr->ss.ss_family == AF_INET) {
			setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof(omit));
		} else {
			omit = IPV6_PMTUDISC_OMIT;
			setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit, sizeof(omit));
		}
	}
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot bind: %s%s", addr->text, strerror(e),
			 e == EADDRINUSE ? " (another server is using this port)" : "");
		close(fd);
		return -1;
	}
	if (type == SOCK_STREAM && listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%s: cannot listen: %s", addr->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
