/* SPDX-License-Identifier: ISC */
/* secret-file.c: reading a credential from a file that only its owner's side can read. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret-file.h"
#include "util.h"

#define SECRET_MAX	4096

/* Why the file at path, open at fd, is not to be trusted with a secret; NULL if it is. */
static const char *
refusal(int fd, struct stat *st)
{
	if (fstat(fd, st) == -1)
		return strerror(errno);
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if ((st->st_mode & S_IRWXO) != 0)
		return "others may read or write it; make it 0600 or 0640";
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "owned by another user than root or the one running idwise-log";
	return NULL;
}

/* The file opened read-only and checked; -1 when it cannot be (said why). */
static int
open_checked(const char *path)
{
	struct stat	 st;
	const char	*why;
	int		 fd;

	/* O_NONBLOCK: a FIFO must not hang the start; the check then refuses it. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		msg_errno("%s: open", path);
		return -1;
	}
	if ((why = refusal(fd, &st)) != NULL) {
		msg("%s: refused: %s (uid %lu, mode %04o)", path, why, (unsigned long)st.st_uid,
		    (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

int
secret_file_check(const char *path)
{
	int	 fd;

	if ((fd = open_checked(path)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* Read at most SECRET_MAX bytes into buf (SECRET_MAX + 1 bytes); their count, or -1. */
static ssize_t
read_some(int fd, const char *path, char *buf)
{
	size_t	 have = 0;
	ssize_t	 n;

	while (have < SECRET_MAX) {
		if ((n = read(fd, buf + have, SECRET_MAX - have)) == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			msg_errno("%s: read", path);
			return -1;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return (ssize_t)have;
}

/* The first line of buf, blanks around it cut, moved to the start of buf. */
static size_t
first_line(char *buf, size_t len)
{
	size_t	 start = 0, end;

	for (end = 0; end < len && buf[end] != '\n' && buf[end] != '\r'; end++)
		;
	while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	memmove(buf, buf + start, end - start);
	explicit_bzero(buf + (end - start), len - (end - start));
	buf[end - start] = '\0';
	return end - start;
}

char *
secret_file_read(const char *path)
{
	char	*buf;
	ssize_t	 n;
	int	 fd;

	if ((fd = open_checked(path)) == -1)
		return NULL;
	if ((buf = malloc(SECRET_MAX + 1)) == NULL) {
		msg("out of memory");
		close(fd);
		return NULL;
	}
	n = read_some(fd, path, buf);
	close(fd);
	if (n == -1 || first_line(buf, (size_t)n) == 0) {
		if (n != -1)
			msg("%s: holds no secret on its first line", path);
		explicit_bzero(buf, SECRET_MAX + 1);
		free(buf);
		return NULL;
	}
	return buf;
}

void
secret_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
