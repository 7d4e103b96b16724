/* SPDX-License-Identifier: ISC */
/*
 * textfile.h: a Prometheus text file for node_exporter's textfile collector
 * (--collector.textfile.directory), as idwise-log ship and exec write their --metrics FILE:
 * written whole to FILE.tmp and renamed over FILE, so that a scrape never sees half of
 * it, at most every TEXTFILE_EVERY_MS and when asked to now (at the exit).
 */
#ifndef IDW_TEXTFILE_H
#define IDW_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TEXTFILE_EVERY_MS	1000
#define TEXTFILE_LABEL_MAX	1024	/* an escaped label value, its '\0' included */

/* Writes the samples to f (its errors are found by ferror after). */
typedef void	textfile_fill_fn(FILE *f, const void *arg);

/* The file FILE.tmp, then renamed over path; 0, or -1 and why (a whole message). */
int	textfile_write(const char *path, textfile_fill_fn *, const void *arg, char *why,
	    size_t whylen);

/* A counter or a gauge whose value is the uint64_t at off in a struct of counts. */
struct textfile_sample {
	const char	*name;
	const char	*type;		/* "counter" or "gauge" */
	const char	*help;
	size_t		 off;
};

/* Each sample's HELP and TYPE lines, then NAME{labels} and its value from stats. */
void	textfile_samples(FILE *, const struct textfile_sample *, size_t n, const void *stats,
	    const char *labels);

/* A label value with '\\', '"' and newlines escaped as the text format wants (cut to fit). */
void	textfile_escape_label(const char *value, char *out, size_t size);

/* A file rewritten every second: where, when last, and whether its failure was said. */
struct textfile {
	const char	*path;		/* NULL: none asked for */
	int64_t		 written_ms;	/* monotonic */
	bool		 failed;	/* said, not again until it works */
};

/*
 * Is it time (TEXTFILE_EVERY_MS since the last time it was, or now)? When it is, the time
 * is taken as the last; the path is not looked at (ship paces its checkpoints by it).
 */
bool	textfile_due(struct textfile *, bool now);

/* Write it, if a path was given; a failure is said once, until it works again. */
void	textfile_rewrite(struct textfile *, textfile_fill_fn *, const void *arg);

#endif
