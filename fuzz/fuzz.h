/* SPDX-License-Identifier: ISC */
/*
 * fuzz.h: the entry points every harness defines, for libFuzzer (--enable-fuzzing) and for
 * fuzz/replay.c, which runs a harness over its corpus in every make check.
 */
#ifndef IDW_FUZZ_H
#define IDW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An oracle said no: say which, and abort so that libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, what) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s (%s)\n",	\
		    __FILE__, __LINE__, what, #cond);			\
		abort();						\
	}								\
} while (0)

#endif
