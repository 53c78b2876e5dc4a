/*
 * file_replace.c
 *		Write, fsync, rename, fsync the directory (see file_replace.h).
 */
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
s_write_all(int fd, const char *p, size_t n)
{
	while (n > 0)
	{
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

int
file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
	{
		snprintf(err, errlen, "file name too long: %.200s", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || s_write_all(fd, data, len) != 0 || fsync(fd) != 0)
	{
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
		if (fd >= 0)
		{
			close(fd);
			unlink(tmp);
		}
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0)
	{
		snprintf(err, errlen, "replacing %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
	{
		snprintf(err, errlen, "flushing the directory of %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
