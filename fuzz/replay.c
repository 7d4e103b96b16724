/* SPDX-License-Identifier: ISC */
/*
 * replay.c: run a harness over every file of its corpus (seeds and the inputs of past
 * findings) without libFuzzer, one child process per file, and print TAP. It is how every
 * make check, with gcc or with sanitizers, replays fuzz/corpus/NAME/.
 *
 *	replay-NAME [DIR | FILE]...	(default: $top_srcdir/fuzz/corpus/NAME)
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error FUZZ_NAME must name the harness
#endif

static int	 count, failed;

static unsigned char *
read_file(const char *path, size_t *len)
{
	unsigned char	*buf = NULL, *grown;
	size_t		 cap = 0;
	FILE		*f;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap * 2 + 4096;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
		}
		*len += fread(buf + *len, 1, cap - *len, f);
		if (feof(f) || ferror(f))
			break;
	}
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* One input in a child: a crash, an oracle's abort or a sanitizer's exit is a failure. */
static void
replay(const char *path)
{
	unsigned char	*data;
	size_t		 len;
	pid_t		 pid;
	int		 status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		if ((data = read_file(path, &len)) == NULL) {
			fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
			_exit(2);
		}
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	count++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s\n", count, path);
		return;
	}
	failed++;
	printf("not ok %d - %s\n", count, path);
	if (WIFSIGNALED(status))
		printf("#   killed by signal %d\n", WTERMSIG(status));
	else
		printf("#   exit status %d\n", WEXITSTATUS(status));
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void
replay_path(const char *path)
{
	struct dirent	**names;
	struct stat	  st;
	char		  file[4096];
	int		  n, i;

	if (stat(path, &st) == -1) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (!S_ISDIR(st.st_mode)) {
		replay(path);
		return;
	}
	if ((n = scandir(path, &names, not_hidden, by_name)) == -1) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		replay(file);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	const char	*top;
	char		 dir[4096];
	int		 i;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			replay_path(argv[i]);
	} else {
		if ((top = getenv("top_srcdir")) == NULL)
			top = ".";
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top, FUZZ_NAME);
		replay_path(dir);
	}
	printf("1..%d\n", count);
	if (count == 0) {
		printf("Bail out! no input in the corpus\n");
		return 1;
	}
	return failed != 0;
}
