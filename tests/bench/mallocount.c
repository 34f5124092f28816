/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD interposer: counts heap calls per thread; each process writes $MALLOCOUNT_FILE.PID. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* glibc's own entry points: no dlsym (which itself allocates) is needed to reach them. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

/* One slot per thread that ever touched the heap, so that the bench can tell the threads that
 * answer queries from the others (a prober's timers); the last slot takes any overflow. */
#define MAX_SLOTS 256

typedef struct {
	atomic_long tid;
	atomic_ulong alloc, free;
} slot_t;

static slot_t slots[MAX_SLOTS];
static atomic_int nslots;
/* initial-exec: a preloaded library has static TLS, and reaching it never allocates */
static __thread slot_t *mine __attribute__((tls_model("initial-exec")));

static slot_t *my_slot(void)
{
	if (mine == NULL) {
		int i = atomic_fetch_add(&nslots, 1);
		if (i >= MAX_SLOTS) {
			i = MAX_SLOTS - 1;
		}
		atomic_store(&slots[i].tid, (long)syscall(SYS_gettid));
		mine = &slots[i];
	}
	return mine;
}

#define COUNT(field) atomic_fetch_add_explicit(&my_slot()->field, 1, memory_order_relaxed)

void *malloc(size_t size)
{
	COUNT(alloc);
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	COUNT(alloc);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	COUNT(alloc);
	return __libc_realloc(p, size);
}

void free(void *p)
{
	if (p != NULL) {
		COUNT(free);
	}
	__libc_free(p);
}

void *memalign(size_t align, size_t size)
{
	COUNT(alloc);
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)) != 0) {
		return EINVAL;
	}
	void *p = memalign(align, size);
	if (p == NULL) {
		return ENOMEM;
	}
	*out = p;
	return 0;
}

void *valloc(size_t size)
{
	return memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

static char out_path[4096];

/* Every 50 ms rewrites OUT_PATH.PID, one line "tid=T alloc=A free=F" per thread (through a
 * rename, so a reader never sees half a file); allocates nothing, so it leaves the counts be. */
static void *reporter(void *arg)
{
	char path[4200], tmp[4300], buf[MAX_SLOTS * 64];
	snprintf(path, sizeof(path), "%s.%ld", out_path, (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	for (;;) {
		size_t len = 0;
		int n = atomic_load(&nslots);
		for (int i = 0; i < n && i < MAX_SLOTS; i++) {
			len += (size_t)snprintf(
			    buf + len, sizeof(buf) - len, "tid=%ld alloc=%lu free=%lu\n",
			    atomic_load(&slots[i].tid), atomic_load(&slots[i].alloc),
			    atomic_load(&slots[i].free));
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			ssize_t w = write(fd, buf, len);
			close(fd);
			if (w == (ssize_t)len) {
				rename(tmp, path);
			}
		}
		nanosleep(&pause, NULL);
	}
	return arg;
}

static void start_reporter(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, reporter, NULL) == 0) {
		pthread_detach(t);
	}
}

/* fork() keeps only the calling thread: a forked process (NSD's servers) starts its own
 * counts and its own reporter. */
static void forked(void)
{
	memset(slots, 0, sizeof(slots));
	atomic_store(&nslots, 0);
	mine = NULL;
	start_reporter();
}

__attribute__((constructor)) static void mallocount_start(void)
{
	const char *path = getenv("MALLOCOUNT_FILE");
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(out_path)) {
		return;
	}
	memcpy(out_path, path, strlen(path) + 1);
	pthread_atfork(NULL, NULL, forked);
	start_reporter();
}
