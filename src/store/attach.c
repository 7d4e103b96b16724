/* SPDX-License-Identifier: ISC */
/*
 * attach.c: the writer's state file (shm.h), attached once per process and moved off when
 * it is replaced, and its append lock.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "eventlog-internal.h"
#include "shm.h"
#include "util.h"

static struct shm *
current_shm(struct eventlog *el)
{
	return __atomic_load_n(&el->shm, __ATOMIC_ACQUIRE);
}

/* Holding attach_mutex: attach to the file at the path; say why not unless quiet. */
static struct shm *
attach_locked(struct eventlog *el, bool quiet)
{
	struct shm	*shm;
	char		 err[512];

	if ((shm = shm_attach(el->shm_path, err, sizeof(err))) == NULL && !quiet)
		msg("%s", err);
	__atomic_store_n(&el->shm, shm, __ATOMIC_RELEASE);
	return shm;
}

/*
 * The shared state file, attached once per process; retried on the next request after a
 * failure. Quiet for the metrics: the append that follows says what is wrong, once.
 */
struct shm *
el_attach(struct eventlog *el, bool quiet)
{
	struct shm	*shm;

	if ((shm = current_shm(el)) != NULL)
		return shm;
	pthread_mutex_lock(&el->attach_mutex);
	if ((shm = current_shm(el)) == NULL)
		shm = attach_locked(el, quiet);
	pthread_mutex_unlock(&el->attach_mutex);
	return shm;
}

/*
 * The state file at the path is no longer old (removed, or made anew by a process that
 * found it removed): move to the one there now, for one lock across the deployment.
 * The old one stays mapped for threads still using it.
 */
static struct shm *
reattach(struct eventlog *el, struct shm *old)
{
	struct shm	**grown, *shm;

	pthread_mutex_lock(&el->attach_mutex);
	if ((shm = current_shm(el)) == old) {
		grown = realloc(el->retired, (el->nretired + 1) * sizeof(*grown));
		if (grown == NULL) {
			pthread_mutex_unlock(&el->attach_mutex);
			msg("%s: out of memory", el->shm_path);
			return NULL;
		}
		el->retired = grown;
		el->retired[el->nretired++] = old;
		msg("%s: replaced or removed while in use; moving to the one there now",
		    el->shm_path);
		shm = attach_locked(el, false);
	}
	pthread_mutex_unlock(&el->attach_mutex);
	return shm;
}

/*
 * The state file, then its lock. A holder that died is no matter: el_catch_up() checks.
 * A state file that was replaced is left for the one there now (reattach()). From asking
 * for the lock the writer is counted as appending (commit.h), until the caller's
 * commit_leave() on the state file returned (after el_unlock()).
 */
struct shm *
el_lock(struct eventlog *el)
{
	struct shm	*shm;
	bool		 holder_died;
	int		 rc, tries;

	if ((shm = el_attach(el, false)) == NULL)
		return NULL;
	for (tries = 0; tries < 3 && shm != NULL; tries++) {
		if (!shm_locks_plausible(shm)) {
			msg("%s: its locks hold values no lock has (written to by someone "
			    "else?); not appending: stop every idwise-fcgi process of this log "
			    "and it is made anew", el->shm_path);
			return NULL;
		}
		commit_arrive(shm_commit(shm));
		if ((rc = shm_lock(shm, LOCK_TIMEOUT_MS, &holder_died)) != 0) {
			commit_leave(shm_commit(shm));
			msg("%s: lock: %s", el->shm_path, strerror(rc));
			return NULL;
		}
		if (holder_died)
			msg("%s: a process died holding the lock; checking the log",
			    el->shm_path);
		if (!shm_replaced(shm, el->shm_path)) {
			el->locked = shm;
			return shm;
		}
		shm_unlock(shm);
		commit_leave(shm_commit(shm));
		shm = reattach(el, shm);
	}
	if (shm != NULL)
		msg("%s: replaced again and again; not appending", el->shm_path);
	return NULL;
}

void
el_unlock(struct eventlog *el, struct shm *shm)
{
	el->locked = NULL;
	shm_unlock(shm);
}
