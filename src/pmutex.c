/* pmutex.c: robust process-shared mutexes. */
#include "autoconf.h"

#include <errno.h>
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
