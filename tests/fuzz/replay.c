/* SPDX-License-Identifier: MIT */
/* Replays a fuzz target's corpus without libFuzzer (for `make test`): every file of each
 * directory goes through LLVMFuzzerTestOneInput; TAP, one test per directory with the count
 * of inputs. A crash or a failed invariant (abort) kills the process, naming the input. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET='\"name\"'"
#endif

static char current[4096]; /* the input being run, for the signal handler */

static void on_fatal(int sig)
{
	static const char msg[] = "# replay: died on input ";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
	    write(STDERR_FILENO, current, strlen(current)) < 0 || write(STDERR_FILENO, "\n", 1) < 0) {
		/* nothing more can be said */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Run every regular file of dir; returns how many, or -1 when dir cannot be read. */
static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		printf("# %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int count = 0, ret = 0;
	uint8_t *buf = NULL;
	for (int i = 0; i < n; i++) {
		snprintf(current, sizeof(current), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		struct stat sb;
		if (stat(current, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			continue; /* "." and ".." */
		}
		/* an exact copy on the heap, so that overreads of the input show under ASan */
		size_t len = (size_t)sb.st_size;
		free(buf);
		buf = malloc(len > 0 ? len : 1);
		FILE *f = fopen(current, "rb");
		if (buf == NULL || f == NULL || fread(buf, 1, len, f) != len) {
			printf("# %s: cannot read\n", current);
			ret = -1;
			if (f != NULL) {
				fclose(f);
			}
			continue;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		count++;
	}
	free(buf);
	free(names);
	current[0] = '\0';
	return ret < 0 ? -1 : count;
}

int main(int argc, char **argv)
{
	signal(SIGABRT, on_fatal);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	char def[256];
	snprintf(def, sizeof(def), "tests/fuzz/corpus/%s", FUZZ_TARGET);
	char *defaults[] = { def };
	char **dirs = argc > 1 ? argv + 1 : defaults;
	int ndirs = argc > 1 ? argc - 1 : 1;
	printf("1..%d\n", ndirs);
	int failed = 0;
	for (int i = 0; i < ndirs; i++) {
		int n = replay_dir(dirs[i]);
		printf("%sok %d - %s: %s, %d inputs\n", n > 0 ? "" : "not ", i + 1, FUZZ_TARGET,
		       dirs[i], n);
		failed += n > 0 ? 0 : 1;
	}
	return failed > 0 ? 1 : 0;
}
