/* SPDX-License-Identifier: ISC */
/* shm.c: the state file shared by every process: a robust lock and the boot it belongs to. */
#include "autoconf.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "metrics.h"
#include "ownfile.h"
#include "pmutex.h"
#include "shm.h"

#define SHM_MAGIC	0x69647773u	/* "idws" */
#define SHM_VERSION	5
/* Version 5's counters (metrics.h): a layout with other sizes is another version. */
_Static_assert(METRICS_REPLY_SLOTS == 15 && METRICS_TYPE_SLOTS == 11 &&
    METRICS_OUTCOME_SLOTS == 7 && METRICS_BUCKETS == 14 && METRICS_PROCESSES == 256,
    "the state file's counters changed size: change SHM_VERSION and these numbers");
#define BOOT_ID_LEN	36
#define BOOT_ID_FILE	"/proc/sys/kernel/random/boot_id"

struct shm_layout {
	uint32_t	 magic;
	uint32_t	 version;
	uint32_t	 size;
	char		 boot_id[BOOT_ID_LEN + 1];
	uint32_t	 fresh;		/* nothing before this boot can be trusted */
	pthread_mutex_t	 lock;
	struct commit	 commit;
	struct metrics	 metrics;
};

struct shm {
	int			 fd;
	dev_t			 dev;	/* the file mapped */
	ino_t			 ino;
	struct shm_layout	*map;
};

static int
read_boot_id(char out[BOOT_ID_LEN + 1])
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(BOOT_ID_FILE, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, out, BOOT_ID_LEN);
	close(fd);
	if (n != BOOT_ID_LEN)
		return -1;
	out[BOOT_ID_LEN] = '\0';
	return 0;
}

static bool
layout_current(const struct shm_layout *map, const char *boot_id)
{
	return map->magic == SHM_MAGIC && map->version == SHM_VERSION &&
	    map->size == sizeof(*map) && strcmp(map->boot_id, boot_id) == 0 &&
	    (map->fresh == 0 || map->fresh == 1) && commit_flags_plausible(&map->commit);
}

/* Could the locks be real ones, in use by the processes attached? */
static bool
locks_plausible(const struct shm_layout *map)
{
	return pmutex_plausible(&map->lock) && pmutex_plausible(&map->commit.sync_lock);
}

/* Only while holding the file's flock exclusively: nobody else has it mapped. */
static int
init_layout(struct shm_layout *map, const char *boot_id)
{
	int	 rc;

	memset(map, 0, sizeof(*map));
	if ((rc = pmutex_init(&map->lock)) != 0 || (rc = commit_init(&map->commit)) != 0)
		return rc;
	map->fresh = 1;
	memcpy(map->boot_id, boot_id, BOOT_ID_LEN + 1);
	map->size = sizeof(*map);
	map->version = SHM_VERSION;
	map->magic = SHM_MAGIC;
	return 0;
}

/*
 * Only while holding the file's flock exclusively: nobody holds the locks, so they are
 * made anew whatever their words say (a holder that died, or someone who wrote there);
 * the counters are kept (they are checked against the log under the lock: eventlog.c).
 */
static int
renew_locks(struct shm_layout *map)
{
	int	 rc;

	if ((rc = pmutex_init(&map->lock)) != 0)
		return rc;
	return pmutex_init(&map->commit.sync_lock);
}

static struct shm_layout *
map_file(int fd)
{
	void	*p;

	if (ftruncate(fd, sizeof(struct shm_layout)) == -1)
		return NULL;
	p = mmap(NULL, sizeof(struct shm_layout), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Alone (exclusive flock): make the layout current. With others (shared flock): it must
 * already be current, or another version or boot's process is using it.
 */
/*
 * Alone (exclusive flock): make the layout current, its locks anew. With others (shared
 * flock): it must already be current, or another version or boot's process is using it,
 * and its locks must be ones a real lock could be.
 */
static const char *
attach_layout(struct shm *shm, const char *boot_id, bool alone)
{
	struct stat	 st;
	int		 rc;

	if (fstat(shm->fd, &st) == -1)
		return strerror(errno);
	shm->dev = st.st_dev;
	shm->ino = st.st_ino;
	if (!alone && (size_t)st.st_size != sizeof(*shm->map))
		return "in use by another version of idwise-fcgi";
	if ((shm->map = map_file(shm->fd)) == NULL)
		return strerror(errno);
	if (!alone && !layout_current(shm->map, boot_id))
		return "in use by another version of idwise-fcgi";
	if (!alone && !locks_plausible(shm->map))
		return "its locks hold values no lock has (written to by someone else?); "
		    "not used: stop every idwise-fcgi process of this log and it is made anew";
	if (!alone)
		return NULL;
	if (layout_current(shm->map, boot_id))
		rc = renew_locks(shm->map);
	else
		rc = init_layout(shm->map, boot_id);
	return rc != 0 ? strerror(rc) : NULL;
}

static const char *
attach_locked(struct shm *shm, const char *boot_id)
{
	const char	*why;
	bool		 alone = true;

	if (flock(shm->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			return strerror(errno);
		alone = false;
		if (flock(shm->fd, LOCK_SH) == -1)
			return strerror(errno);
	}
	if ((why = attach_layout(shm, boot_id, alone)) != NULL)
		return why;
	/* Stay attached with a shared lock for as long as the process lives. */
	if (alone && flock(shm->fd, LOCK_SH) == -1)
		return strerror(errno);
	return NULL;
}

struct shm *
shm_attach(const char *path, char *err, size_t errlen)
{
	struct shm	*shm;
	struct stat	 st;
	char		 boot_id[BOOT_ID_LEN + 1], not_ours[OWNFILE_WHY_LEN];
	const char	*why;

	if (read_boot_id(boot_id) == -1) {
		snprintf(err, errlen, "%s: %s", BOOT_ID_FILE, strerror(errno ? errno : EIO));
		return NULL;
	}
	if ((shm = calloc(1, sizeof(*shm))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	shm->fd = ownfile_open(path, O_RDWR | O_CREAT, 0600, &st, not_ours, sizeof(not_ours));
	if (shm->fd == -1)
		why = not_ours;
	else
		why = attach_locked(shm, boot_id);
	if (why != NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		shm_detach(shm);
		return NULL;
	}
	metrics_join(&shm->map->metrics);
	return shm;
}

void
shm_detach(struct shm *shm)
{
	if (shm == NULL)
		return;
	if (shm->map != NULL) {
		metrics_leave(&shm->map->metrics);
		munmap(shm->map, sizeof(*shm->map));
	}
	if (shm->fd != -1)
		close(shm->fd);
	free(shm);
}

bool
shm_locks_plausible(const struct shm *shm)
{
	return locks_plausible(shm->map);
}

int
shm_lock(struct shm *shm, int timeout_ms, bool *holder_died)
{
	return pmutex_lock(&shm->map->lock, timeout_ms, holder_died);
}

bool
shm_replaced(const struct shm *shm, const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == -1 || st.st_dev != shm->dev || st.st_ino != shm->ino;
}

void
shm_unlock(struct shm *shm)
{
	pthread_mutex_unlock(&shm->map->lock);
}

bool
shm_is_fresh(const struct shm *shm)
{
	return shm->map->fresh != 0;
}

void
shm_clear_fresh(struct shm *shm)
{
	shm->map->fresh = 0;
}

struct commit *
shm_commit(struct shm *shm)
{
	return &shm->map->commit;
}

struct metrics *
shm_metrics(struct shm *shm)
{
	return &shm->map->metrics;
}
