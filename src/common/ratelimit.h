/* SPDX-License-Identifier: ISC */
/* ratelimit.h: a token bucket, so that a flood of requests cannot flood stderr. */
#ifndef IDW_RATELIMIT_H
#define IDW_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct ratelimit {
	pthread_mutex_t	 mutex;
	double		 burst;		/* bucket size */
	double		 per_second;	/* refill */
	double		 tokens;
	struct timespec	 last;
	unsigned long	 suppressed;	/* refused since the last one let through */
};

#define RATELIMIT_INIT(burst, per_second) \
	{ PTHREAD_MUTEX_INITIALIZER, (burst), (per_second), (burst), { 0, 0 }, 0 }

/*
 * May one more go through now? If so, *suppressed gets how many were refused since the
 * last one that went through (to say so once).
 */
bool	ratelimit_take(struct ratelimit *, unsigned long *suppressed);

#endif
