/* SPDX-License-Identifier: ISC */
/*
 * main.c: powerfs [--tear MODE] [--seed N] [--cut-at-sync PATH[:N]] [--report FILE] [--debug]
 *     BACKING MOUNTPOINT
 *
 * Mounts BACKING at MOUNTPOINT (allow_other, default_permissions) and stays in the
 * foreground. SIGUSR1 is the power cut: every file goes back to what its last fsync or
 * fdatasync made durable and every directory to the names its last fsync made durable
 * (powerfs.h), each thing taken back is one line on the report (standard error unless
 * --report), the mount goes dead and away, and powerfs exits 0. --tear MODE (none, byte,
 * page, zero; default none) says what the cut does to each file's last write since its
 * sync; --seed N seeds the tear points. --cut-at-sync PATH[:N] cuts by itself when the Nth
 * fsync or fdatasync (default the first) of PATH (relative to BACKING; a file or a
 * directory) comes, instead of honouring it: that call fails with EIO, as after a power
 * loss nothing returns; a cut in a precise place, for deterministic tests. An unmount (umount, fusermount3 -u), SIGTERM,
 * SIGINT or SIGHUP is a clean shutdown: what was written stays. BACKING must not hold
 * GRAVE_NAME (left by a powerfs that was killed: its state is lost, start afresh).
 */
#define FUSE_USE_VERSION	35

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "powerfs.h"

struct pfs		 pfs = { .root = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *const tear_names[] = {
	[TEAR_NONE] = "none", [TEAR_BYTE] = "byte", [TEAR_PAGE] = "page", [TEAR_ZERO] = "zero",
};

static void
usage(void)
{
	fprintf(stderr, "usage: powerfs [--tear none|byte|page|zero] [--seed N] "
	    "[--cut-at-sync PATH[:N]] [--report FILE] [--debug] BACKING MOUNTPOINT\n");
	exit(64);
}

static int
parse_tear(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(tear_names) / sizeof(tear_names[0]); i++)
		if (strcmp(s, tear_names[i]) == 0)
			return (int)i;
	return -1;
}

/* --cut-at-sync PATH[:N]: N (default 1) counts the fsyncs of PATH, a file's or a
 * directory's path relative to BACKING. */
static void
parse_cut_at(char *arg)
{
	char	*colon = strrchr(arg, ':'), *end;

	pfs.cut_at = arg;
	pfs.cut_at_n = 1;
	if (colon == NULL)
		return;
	*colon = '\0';
	pfs.cut_at_n = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || pfs.cut_at_n == 0)
		usage();
}

/* ---- the power cut ------------------------------------------------------------------ */

void
pfs_cut(const char *why)
{
	size_t	 files, names;

	pfs.dead = true;
	fprintf(pfs.report, "powerfs: cut: %s\n", why);
	files = data_cut();
	names = names_cut();
	names_keep_all();
	fprintf(pfs.report, "powerfs: cut: done: %zu files put back, %zu names undone "
	    "(tear %s)\n", files, names, tear_names[pfs.tear]);
	fflush(pfs.report);
	/* libfuse's handler ends the loop; the unmount follows in fuse_main() */
	pthread_kill(pfs.main_thread, SIGTERM);
}

static void *
wait_for_cut(void *arg)
{
	sigset_t	 set;
	int		 sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigwait(&set, &sig) != 0)
		return NULL;
	pthread_mutex_lock(&pfs.lock);
	if (!pfs.dead)
		pfs_cut("SIGUSR1");
	pthread_mutex_unlock(&pfs.lock);
	return NULL;
}

/* SIGUSR1 blocked here (and in every thread started after), taken by a thread of its own. */
static int
start_cut_thread(void)
{
	pthread_t	 t;
	sigset_t	 set;
	int		 rc;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0 ||
	    (rc = pthread_create(&t, NULL, wait_for_cut, NULL)) != 0)
		return rc;
	return pthread_detach(t);
}

/* ---- starting ----------------------------------------------------------------------- */

static void
open_report(const char *path)
{
	pfs.report = stderr;
	if (path == NULL)
		return;
	if ((pfs.report = fopen(path, "a")) == NULL) {
		fprintf(stderr, "powerfs: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	setvbuf(pfs.report, NULL, _IOLBF, 0);
}

static void
open_backing(const char *path)
{
	int	 rc;

	if ((pfs.root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (pfs.root_path = realpath(path, NULL)) == NULL) {
		fprintf(stderr, "powerfs: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((rc = names_open_grave()) != 0) {
		fprintf(stderr, "powerfs: %s/%s: %s%s\n", path, GRAVE_NAME, strerror(-rc),
		    rc == -EEXIST ? " (left by a powerfs that was killed: start afresh)" : "");
		exit(1);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "tear",	required_argument,	NULL, 't' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "report",	required_argument,	NULL, 'r' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "cut-at-sync", required_argument,	NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char		*fargv[8], opts[] =
	    "allow_other,default_permissions,fsname=powerfs,max_threads=16";
	const char	*report = NULL;
	int		 c, fargc = 0, rc, tear;
	bool		 debug = false;

	pfs.seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if ((tear = parse_tear(optarg)) == -1)
				usage();
			pfs.tear = (enum tear)tear;
			break;
		case 's':
			pfs.seed = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			report = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'c':
			parse_cut_at(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	open_report(report);
	umask(0);
	open_backing(argv[optind]);
	pfs.main_thread = pthread_self();
	if ((rc = start_cut_thread()) != 0) {
		fprintf(stderr, "powerfs: the cut's thread: %s\n", strerror(rc));
		return 1;
	}
	fargv[fargc++] = argv[0];
	fargv[fargc++] = "-f";
	if (debug)
		fargv[fargc++] = "-d";
	fargv[fargc++] = "-o";
	fargv[fargc++] = opts;
	fargv[fargc++] = argv[optind + 1];
	fargv[fargc] = NULL;
	rc = fuse_main(fargc, fargv, &powerfs_ops, NULL);
	pthread_mutex_lock(&pfs.lock);
	if (!pfs.dead) {
		pfs.dead = true;
		data_keep_all();
		names_keep_all();
		fprintf(pfs.report, "powerfs: unmounted cleanly: everything written kept\n");
	}
	pthread_mutex_unlock(&pfs.lock);
	/* fuse_main() says 8 after a signal too: what counts is whether it was mounted */
	return pfs.mounted ? 0 : (rc != 0 ? rc : 1);
}
