/* SPDX-License-Identifier: ISC */
/*
 * shm.h: what every process and thread of a deployment shares, in a small file mapped
 * next to the log (<log>.shm): the append lock, a robust process-shared mutex that
 * survives the death of its holder (pmutex.h); the group commit's state (commit.h); the
 * counters (metrics.h); and the boot it was made in.
 */
#ifndef IDW_SHM_H
#define IDW_SHM_H

#include <stdbool.h>
#include <stddef.h>

struct shm;

/*
 * Map the file, a regular file of the service's user (ownfile.h), creating or
 * re-initializing it when no other process has it (its locks are then made anew). When
 * others have it, its layout must be current and its locks plausible; else NULL, and why
 * in err.
 */
struct shm	*shm_attach(const char *path, char *err, size_t errlen);
void		 shm_detach(struct shm *);

/*
 * Could its two locks be real ones (pmutex_plausible())? Asked before each use: the
 * file is shared, and a lock with words no real one has can crash the process that
 * takes it.
 */
bool	shm_locks_plausible(const struct shm *);
/* Take the append lock: see pmutex_lock(). */
int	shm_lock(struct shm *, int timeout_ms, bool *holder_died);
void	shm_unlock(struct shm *);
/*
 * Is the file at path no longer the one mapped (removed, or replaced by another)? Then
 * processes that attach now get another lock: move to it (attach.c).
 */
bool	shm_replaced(const struct shm *, const char *path);

/*
 * Under the lock: was the file made anew (first use, or a reboot since), so that
 * nothing written before it can be trusted to have reached the disk? Stays so until
 * shm_clear_fresh().
 */
bool	shm_is_fresh(const struct shm *);
void	shm_clear_fresh(struct shm *);

/* The group commit's state (commit.h), in the same file. */
struct commit	*shm_commit(struct shm *);
/* The deployment's counters (metrics.h), in the same file. */
struct metrics	*shm_metrics(struct shm *);

#endif
