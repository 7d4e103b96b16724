/* SPDX-License-Identifier: ISC */
/* pmutex.c: robust process-shared mutexes. */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

#include "pmutex.h"

int
pmutex_init(pthread_mutex_t *mutex)
{
	pthread_mutexattr_t	 attr;
	int			 rc;

	if ((rc = pthread_mutexattr_init(&attr)) != 0)
		return rc;
	if ((rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) == 0 &&
	    (rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) == 0)
		rc = pthread_mutex_init(mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	return rc;
}

static int
lock_within(pthread_mutex_t *mutex, int timeout_ms)
{
	struct timespec	 deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	return pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &deadline);
}

/* EOWNERDEAD: take it over from the dead holder. */
static int
made_consistent(pthread_mutex_t *mutex, int rc, bool *holder_died)
{
	*holder_died = rc == EOWNERDEAD;
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(mutex);
	return rc;
}

int
pmutex_lock(pthread_mutex_t *mutex, int timeout_ms, bool *holder_died)
{
	int	 rc;

	if ((rc = pthread_mutex_trylock(mutex)) == EBUSY)
		rc = lock_within(mutex, timeout_ms);
	return made_consistent(mutex, rc, holder_died);
}

int
pmutex_trylock(pthread_mutex_t *mutex, bool *holder_died)
{
	return made_consistent(mutex, pthread_mutex_trylock(mutex), holder_died);
}

#ifdef __GLIBC__
#define PID_MAX_LIMIT		(4 * 1024 * 1024)	/* the kernel's: pid_max is no more */
#define FUTEX_TID_BITS		0x3fffffff
#define OWNER_INCONSISTENT	INT_MAX			/* glibc's, after EOWNERDEAD */
#define OWNER_UNRECOVERABLE	(INT_MAX - 1)

static bool
tid_or_none(unsigned long tid)
{
	return tid <= PID_MAX_LIMIT;
}

/*
 * glibc's words, read while other processes may be using the mutex: only what holds in
 * every state it passes through. The kind never changes after pmutex_init(); the lock
 * word holds a thread id (and the waiters and owner-died bits); the owner is a thread
 * id, none or one of glibc's two marks; spinning and elision are never used; the count of a mutex that is not recursive is 0
 * or 1.
 */
bool
pmutex_plausible(const pthread_mutex_t *mutex)
{
	const struct __pthread_mutex_s	*seen = &mutex->__data;
	pthread_mutex_t			 fresh;
	int				 owner = seen->__owner, kind;

	if (pmutex_init(&fresh) != 0)
		return false;
	kind = fresh.__data.__kind;	/* (destroy() spoils it) */
	pthread_mutex_destroy(&fresh);
	return seen->__kind == kind && seen->__spins == 0 &&
	    seen->__elision == 0 && seen->__count <= 1 &&
	    tid_or_none((unsigned)seen->__lock & FUTEX_TID_BITS) &&
	    (owner == OWNER_INCONSISTENT || owner == OWNER_UNRECOVERABLE ||
	    (owner >= 0 && tid_or_none((unsigned long)owner)));
}
#else
bool
pmutex_plausible(const pthread_mutex_t *mutex)
{
	(void)mutex;
	return true;
}
#endif
