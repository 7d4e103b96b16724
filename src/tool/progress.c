/* SPDX-License-Identifier: ISC */
/* progress.c: the progress line on a terminal's stderr, redrawn over itself with '\r'. */
#include "autoconf.h"

#include <sys/stat.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

#define LINE_MAX_LEN	200
#define MB		1e6

struct progress {
	const char	*what;
	int64_t		 start_ms;
	int64_t		 drawn_ms;	/* the last line, or the start */
	size_t		 shown;		/* the length of the line on the terminal; 0: none */
	bool		 broken;	/* a write failed: draw no more */
};

/* --- the text ---------------------------------------------------------------------- */

/* ", 1:05 left" or ", 1:02:03 left". */
static int
format_left(char *buf, size_t size, int64_t ms)
{
	int64_t	 s = (ms + 999) / 1000;

	if (s >= 3600)
		return snprintf(buf, size, ", %lld:%02lld:%02lld left", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
	return snprintf(buf, size, ", %lld:%02lld left", (long long)(s / 60),
	    (long long)(s % 60));
}

int
progress_format(char *buf, size_t size, const char *what, const struct progress_figures *f)
{
	char	 bytes[64], rate[32] = "", left[32] = "";
	double	 done = (double)f->bytes;

	if (f->total > 0)
		snprintf(bytes, sizeof(bytes), "%.1f of %.1f MB", done / MB,
		    (double)f->total / MB);
	else
		snprintf(bytes, sizeof(bytes), "%.1f MB", done / MB);
	if (f->elapsed_ms > 0)
		snprintf(rate, sizeof(rate), ", %.1f MB/s", done / MB / ((double)f->elapsed_ms /
		    1000));
	/* The rate so far, over what is left. */
	if (f->elapsed_ms > 0 && f->bytes > 0 && f->bytes <= f->total)
		format_left(left, sizeof(left), (int64_t)((double)f->elapsed_ms *
		    (double)(f->total - f->bytes) / done));
	return snprintf(buf, size, "%s: %llu record%s, %s%s%s", what,
	    (unsigned long long)f->records, f->records == 1 ? "" : "s", bytes, rate, left);
}

/* --- the terminal ------------------------------------------------------------------ */

struct progress *
progress_start(const char *what)
{
	struct progress	*p;

	if (!isatty(STDERR_FILENO) || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->what = what;
	p->start_ms = p->drawn_ms = monotonic_ms();
	return p;
}

/* text (len bytes) over what is shown: '\r', the text, blanks over the rest of the old. */
static void
draw(struct progress *p, const char *text, size_t len)
{
	char	 line[1 + 2 * LINE_MAX_LEN];
	size_t	 n = 0;

	line[n++] = '\r';
	memcpy(line + n, text, len);
	n += len;
	if (p->shown > len) {
		memset(line + n, ' ', p->shown - len);
		n += p->shown - len;
	}
	if (write_all(STDERR_FILENO, line, n) == -1) {
		p->broken = true;
		return;
	}
	p->shown = len;
}

void
progress_update(struct progress *p, uint64_t records, uint64_t bytes, uint64_t total)
{
	struct progress_figures	 f = { records, bytes, total, 0 };
	char			 text[LINE_MAX_LEN];
	int64_t			 now;
	int			 len;

	if (p == NULL || p->broken || (now = monotonic_ms()) - p->drawn_ms < PROGRESS_EVERY_MS)
		return;
	p->drawn_ms = now;
	f.elapsed_ms = now - p->start_ms;
	if ((len = progress_format(text, sizeof(text), p->what, &f)) < 0)
		return;
	draw(p, text, (size_t)len < sizeof(text) ? (size_t)len : sizeof(text) - 1);
}

void
progress_report(void *p, uint64_t records, uint64_t bytes, uint64_t total)
{
	progress_update(p, records, bytes, total);
}

void
progress_end(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->shown > 0 && !p->broken) {
		draw(p, "", 0);		/* blanks over the line, */
		if (!p->broken && write_all(STDERR_FILENO, "\r", 1) == -1)	/* and back */
			p->broken = true;
	}
	free(p);
}

uint64_t
progress_files_size(char *const files[], int nfiles)
{
	struct stat	 st;
	uint64_t	 total = 0;
	int		 i;

	for (i = 0; i < nfiles; i++) {
		if (stat(files[i], &st) == -1 || !S_ISREG(st.st_mode))
			return 0;
		total += (uint64_t)st.st_size;
	}
	return total;
}
