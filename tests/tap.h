/* SPDX-License-Identifier: MIT */
/* A minimal TAP producer for the unit tests (Debian ships no libtap). */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static inline void plan(int n)
{
	printf("1..%d\n", n);
}

static inline void done_testing(void)
{
	printf("1..%d\n", tap_n);
}

__attribute__((format(printf, 2, 3))) static inline bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
	}
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
}

#define is_int(got, want, ...)                                                                  \
	do {                                                                                     \
		long long g_ = (long long)(got), w_ = (long long)(want);                          \
		if (!ok(g_ == w_, __VA_ARGS__)) {                                                \
			diag("  got %lld, want %lld", g_, w_);                                   \
		}                                                                                \
	} while (0)

#define is_str(got, want, ...)                                                                  \
	do {                                                                                     \
		const char *g_ = (got), *w_ = (want);                                            \
		if (!ok(g_ != NULL && strcmp(g_, w_) == 0, __VA_ARGS__)) {                       \
			diag("  got '%s', want '%s'", g_ ? g_ : "(null)", w_);                   \
		}                                                                                \
	} while (0)

static inline void tap_hex(const char *what, const void *p, size_t n)
{
	fprintf(stderr, "#   %s:", what);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, " %02x", ((const uint8_t *)p)[i]);
	}
	fputs("\n", stderr);
}

#define is_mem(got, glen, want, wlen, ...)                                                      \
	do {                                                                                     \
		size_t gl_ = (glen), wl_ = (wlen);                                               \
		if (!ok(gl_ == wl_ && memcmp((got), (want), gl_) == 0, __VA_ARGS__)) {           \
			tap_hex("got ", (got), gl_);                                             \
			tap_hex("want", (want), wl_);                                            \
		}                                                                                \
	} while (0)

static inline int exit_status(void)
{
	return tap_failed ? 1 : 0;
}
