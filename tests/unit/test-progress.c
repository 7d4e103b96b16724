/* SPDX-License-Identifier: ISC */
/*
 * test-progress.c: the progress line's text (progress.h): records, MB, MB/s and the time
 * left from the bytes read over the bytes of the files; what is left out when it is not
 * known; quiet when stderr is not a terminal; the size of the files.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <unistd.h>

#include "progress.h"
#include "tap.h"

static void
check_text(uint64_t records, uint64_t bytes, uint64_t total, int64_t ms, const char *want,
    const char *what)
{
	struct progress_figures	 f = { records, bytes, total, ms };
	char			 text[200];

	progress_format(text, sizeof(text), "verify", &f);
	is_str(text, want, "%s", what);
}

static void
check_texts(void)
{
	check_text(500000, 300000000, 600000000, 3000,
	    "verify: 500000 records, 300.0 of 600.0 MB, 100.0 MB/s, 0:03 left",
	    "half done in 3 s: 3 s left");
	check_text(100, 1000000, 600000000, 1000,
	    "verify: 100 records, 1.0 of 600.0 MB, 1.0 MB/s, 9:59 left",
	    "1 MB of 600 at 1 MB/s: 599 s left, as minutes and seconds");
	check_text(1, 1000000, 10000000000, 1000,
	    "verify: 1 record, 1.0 of 10000.0 MB, 1.0 MB/s, 2:46:39 left",
	    "10 GB at 1 MB/s: hours too; one record is one record");
	check_text(2, 0, 600000000, 250, "verify: 2 records, 0.0 of 600.0 MB, 0.0 MB/s",
	    "nothing read yet: no time left is said");
	check_text(7, 5000000, 0, 500, "verify: 7 records, 5.0 MB, 10.0 MB/s",
	    "the size is not known (a pipe): MB read, no total, no time left");
	check_text(7, 700, 600, 500, "verify: 7 records, 0.0 of 0.0 MB, 0.0 MB/s",
	    "more read than the files held (the log grew): no time left");
	check_text(0, 0, 0, 0, "verify: 0 records, 0.0 MB", "at the start: no rate");
}

static void
check_quiet(void)
{
	struct progress	*p;
	int		 saved, fd;

	if ((saved = dup(STDERR_FILENO)) == -1 || (fd = open("/dev/null", O_WRONLY)) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		printf("Bail out! cannot point stderr at /dev/null\n");
		exit(1);
	}
	p = progress_start("verify");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	ok(p == NULL, "stderr not a terminal: no progress");
	progress_update(p, 1, 1, 1);
	progress_end(p);
	ok(1, "and the calls take the NULL");
}

static void
check_size(void)
{
	char	 a[] = "/tmp/test-progress.XXXXXX", b[] = "/tmp/test-progress.XXXXXX";
	char	*files[3] = { a, b, (char *)"/dev/null" };
	int	 fa, fb;

	if ((fa = mkstemp(a)) == -1 || (fb = mkstemp(b)) == -1 ||
	    write(fa, "0123456789", 10) != 10 || write(fb, "abc", 3) != 3) {
		printf("Bail out! cannot make the files\n");
		exit(1);
	}
	is_int(progress_files_size(files, 2), 13, "two files: the sum of their sizes");
	is_int(progress_files_size(files, 3), 0, "with one that is no regular file: 0");
	unlink(a);
	unlink(b);
	is_int(progress_files_size(files, 1), 0, "a file that is not there: 0");
	close(fa);
	close(fb);
}

int
main(void)
{
	check_texts();
	check_quiet();
	check_size();
	return done_testing();
}
