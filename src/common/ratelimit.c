/* SPDX-License-Identifier: ISC */
/* ratelimit.c: a token bucket shared by the threads of a process. */
#include "autoconf.h"

#include "ratelimit.h"

static double
seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

bool
ratelimit_take(struct ratelimit *rl, unsigned long *suppressed)
{
	struct timespec	 now;
	bool		 pass;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&rl->mutex);
	if (rl->last.tv_sec != 0 || rl->last.tv_nsec != 0)
		rl->tokens += seconds_between(&rl->last, &now) * rl->per_second;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	rl->last = now;
	pass = rl->tokens >= 1.0;
	if (pass) {
		rl->tokens -= 1.0;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else
		rl->suppressed++;
	pthread_mutex_unlock(&rl->mutex);
	return pass;
}
