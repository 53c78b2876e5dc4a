/*
 * fz_driver.c
 *		A main() for the fuzz targets without libFuzzer: runs the target once
 *		per file named on the command line (directories: every file in them,
 *		in name order), each input in a buffer of exactly its size so that
 *		AddressSanitizer sees a read past its end.  This is how the committed
 *		corpora are replayed with gcc in `make check`.
 */
#include "fz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	return 0;
}

static int
s_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fprintf(stderr, "cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	data = malloc(n ? (size_t) n : 1);
	if (data == NULL || fread(data, 1, (size_t) n, f) != (size_t) n)
	{
		fprintf(stderr, "cannot read %s\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t) n);
	free(data);
	return 0;
}

static int
s_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
s_run(const char *path, long *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (stat(path, &st) != 0)
	{
		fprintf(stderr, "%s: no such file or directory\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
	{
		(*count)++;
		return s_run_file(path);
	}
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
	{
		char full[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		if (n == cap)
		{
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		names[n++] = strdup(full);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), s_cmp);
	for (i = 0; i < n; i++)
	{
		if (s_run(names[i], count) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	long count = 0;
	int i, rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (s_run(argv[i], &count) != 0)
			rc = 1;
	fprintf(stderr, "%s: %ld inputs replayed%s\n", argv[0], count, rc ? ", some unreadable" : "");
	return rc;
}
