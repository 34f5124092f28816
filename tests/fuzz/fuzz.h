/* SPDX-License-Identifier: MIT */
/* What the fuzz targets share: libFuzzer's entry point, a scratch directory removed at exit,
 * and writing an input into a file there (for parsers that read files). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Called by libFuzzer, or by tests/fuzz/replay.c for each file of a corpus. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_scratch[64];

static inline void fuzz_scratch_remove(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_scratch);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_scratch);
	}
}

/* The process's scratch directory, made on first use; a failure is fatal (no input can run). */
static inline const char *fuzz_dir(void)
{
	if (fuzz_scratch[0] == '\0') {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_scratch, sizeof(fuzz_scratch), "%s/ct-fuzz-XXXXXX",
		         tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 40 ? tmp : "/tmp");
		if (mkdtemp(fuzz_scratch) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_scratch_remove);
	}
	return fuzz_scratch;
}

/* Write data into the file name of the scratch directory; its path into path (4096 bytes). */
static inline void fuzz_write(const char *name, const void *data, size_t len, char *path)
{
	snprintf(path, 4096, "%s/%s", fuzz_dir(), name);
	FILE *f = fopen(path, "w");
	if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror("fuzz: writing a scratch file");
		abort();
	}
}

/* An invariant of the code under test does not hold: say which, and crash for libFuzzer. */
#define fuzz_assert(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: %s:%d: invariant failed: %s\n", __FILE__,          \
			        __LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
