/* SPDX-License-Identifier: ISC */
/*
 * pmutex.h: mutexes in shared memory for every process of a deployment: process-shared
 * and robust, so that the death of a holder hands the mutex on instead of wedging it.
 */
#ifndef IDW_PMUTEX_H
#define IDW_PMUTEX_H

#include <pthread.h>
#include <stdbool.h>

/* 0 or an errno value. */
int	pmutex_init(pthread_mutex_t *);
/*
 * Take it, waiting at most timeout_ms. 0 on success; *holder_died tells that the last
 * holder died holding it (it is made consistent again). Else an errno value (ETIMEDOUT).
 */
int	pmutex_lock(pthread_mutex_t *, int timeout_ms, bool *holder_died);
/* Take it if it is free: as pmutex_lock(), or EBUSY at once. */
int	pmutex_trylock(pthread_mutex_t *, bool *holder_died);
/*
 * Could a real mutex of pmutex_init()'s have these words (in a file others can write)?
 * It may be in use: only what no state of a real one has is refused (glibc's layout;
 * elsewhere, true).
 */
bool	pmutex_plausible(const pthread_mutex_t *);

#endif
