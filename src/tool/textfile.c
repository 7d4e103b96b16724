/* SPDX-License-Identifier: ISC */
/* textfile.c: node_exporter textfile metrics, written atomically and paced (textfile.h). */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textfile.h"
#include "util.h"

#define TEXTFILE_MODE	0644

void
textfile_samples(FILE *f, const struct textfile_sample *samples, size_t n, const void *stats,
    const char *labels)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s{%s} %" PRIu64 "\n", samples[i].name,
		    samples[i].help, samples[i].name, samples[i].type, samples[i].name, labels,
		    *(const uint64_t *)((const char *)stats + samples[i].off));
}

void
textfile_escape_label(const char *value, char *out, size_t size)
{
	size_t	 n = 0;

	for (; *value != '\0' && n + 3 < size; value++) {
		if (*value == '\\' || *value == '"' || *value == '\n') {
			out[n++] = '\\';
			out[n++] = *value == '\n' ? 'n' : *value;
		} else
			out[n++] = *value;
	}
	out[n] = '\0';
}

int
textfile_write(const char *path, textfile_fill_fn *fill, const void *arg, char *why,
    size_t whylen)
{
	char	*tmp;
	FILE	*f = NULL;
	int	 fd, rc = -1;

	if (asprintf(&tmp, "%s.tmp", path) == -1) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    TEXTFILE_MODE)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(why, whylen, "%s: open: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
	} else {
		fill(f, arg);
		if (ferror(f) | (fclose(f) == EOF))
			snprintf(why, whylen, "%s: write: %s", tmp, strerror(errno));
		else if (rename(tmp, path) == -1)
			snprintf(why, whylen, "%s: rename to %s: %s", tmp, path, strerror(errno));
		else
			rc = 0;
		if (rc == -1)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

bool
textfile_due(struct textfile *t, bool now)
{
	int64_t	 ms = monotonic_ms();

	if (!now && t->written_ms != 0 && ms - t->written_ms < TEXTFILE_EVERY_MS)
		return false;
	t->written_ms = ms;
	return true;
}

void
textfile_rewrite(struct textfile *t, textfile_fill_fn *fill, const void *arg)
{
	char	 why[512];

	if (t->path == NULL)
		return;
	if (textfile_write(t->path, fill, arg, why, sizeof(why)) == 0)
		t->failed = false;
	else if (!t->failed) {
		msg("%s (the metrics are written again every second)", why);
		t->failed = true;
	}
}
