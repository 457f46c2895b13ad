/*
 * replay: a plain main() for the fuzz targets, so that `make test` runs
 * every corpus file through its target under an ordinary compiler (and
 * under ASan with `make asan`).  Each file is one case; a crash or abort
 * ends the run, which the test runner counts as a failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		perror(path);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;

	for (i = 1; i < argc; i++) {
		if (replay(argv[i]) == 0)
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
